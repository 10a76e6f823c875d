"""Reference Mulberry32 stream (Tommy Ettinger's C original, 2017) in plain Python integers,
independent of our TypeScript: prints the first draws for a few seeds as floats in [0, 1)
(uint32 / 2**32). test/shared/random.test.ts holds its output. Run: python3 this file."""
M = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M


def mulberry32(seed):
    a = seed & M
    while True:
        a = (a + 0x6D2B79F5) & M
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & M
        yield ((t ^ (t >> 14)) & M) / 4294967296


for seed in (0, 1, 42, 2024, 2**32 - 1):
    g = mulberry32(seed)
    print(seed, [repr(next(g)) for _ in range(5)])
