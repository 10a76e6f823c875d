/**
 * Packed training tensors for one dataset version at one input shape, written by main
 * (src/main) and read by the engine. A folder holding:
 *   meta.json   PackMeta
 *   pixels.u8   count × height × width × channels bytes, NHWC, uint8 (0–255), item order
 *   labels.i32  count little-endian int32 class indices (0 … numClasses−1)
 *   splits.u8   count bytes: 0 = train, 1 = val, 2 = test
 */
export interface PackMeta {
  version: 1;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  numClasses: number;
  classNames: string[];
  counts: { train: number; val: number; test: number };
  /** Content hash of the dataset version this pack was built from. */
  versionHash: string;
  /**
   * Checksums written by main when it built the pack (absent in packs built before them):
   * SHA-256 hex of labels.i32 and splits.u8, and of pixels.u8 per block of
   * `pixelBlockItems` items (the last block may be shorter), so damage names its items.
   */
  checksums?: { labels: string; splits: string; pixelBlockItems: number; pixelBlocks: string[] };
}

export const PACK_FILES = { meta: 'meta.json', pixels: 'pixels.u8', labels: 'labels.i32', splits: 'splits.u8' } as const;
export const SPLIT_CODE = { train: 0, val: 1, test: 2 } as const;
