/**
 * A zip archive of a few files (PKWARE APPNOTE 6.3: local headers, deflate, central directory,
 * no ZIP64), written with node:zlib; for exported models (issue 13). Files < 4 GiB each.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

/**
 * MS-DOS date and time of `t` in local time, as zip entries carry them (APPNOTE 4.4.6):
 * time = hour << 11 | minute << 5 | second / 2; date = (year − 1980) << 9 | month << 5 | day.
 * Years before 1980 are clamped to 1980-01-01 00:00, after 2107 to 2107-12-31 23:59:58.
 */
export function dosDateTime(t: Date): { time: number; date: number } {
  const y = t.getFullYear();
  if (y < 1980) return { time: 0, date: (1 << 5) | 1 };
  if (y > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return { time: (t.getHours() << 11) | (t.getMinutes() << 5) | (t.getSeconds() >> 1), date: ((y - 1980) << 9) | ((t.getMonth() + 1) << 5) | t.getDate() };
}

/**
 * Write `files` (names inside `dir`, stored under `prefix/`) into the zip file `out`, each entry
 * dated `when` (default now; local time, 2-second steps, as zip tools show it).
 * @throws Error when a file cannot be read or the zip written.
 */
export async function writeZip(out: string, dir: string, files: readonly string[], prefix: string, when: Date = new Date()): Promise<void> {
  const stamp = dosDateTime(when);
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const data = await readFile(join(dir, f));
    const packed = deflateRawSync(data);
    const name = Buffer.from(`${prefix}/${f}`, 'utf8');
    const crc = crc32(data);
    const fields = (h: Buffer, at: number): void => {
      h.writeUInt16LE(20, at); // version needed 2.0
      h.writeUInt16LE(0x0800, at + 2); // UTF-8 names
      h.writeUInt16LE(8, at + 4); // deflate
      h.writeUInt16LE(stamp.time, at + 6);
      h.writeUInt16LE(stamp.date, at + 8);
      h.writeUInt32LE(crc, at + 10);
      h.writeUInt32LE(packed.length, at + 14);
      h.writeUInt32LE(data.length, at + 18);
      h.writeUInt16LE(name.length, at + 22);
      h.writeUInt16LE(0, at + 24); // extra
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 4);
    const head = Buffer.alloc(46);
    head.writeUInt32LE(0x02014b50, 0);
    head.writeUInt16LE(20, 4); // made by
    fields(head, 6);
    head.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    central.push(head, name);
    offset += local.length + name.length + packed.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(out, Buffer.concat([...locals, dirBytes, end]));
}
