/**
 * A zip archive of a few files (PKWARE APPNOTE 6.3: local headers, deflate, central directory,
 * no ZIP64), written with node:zlib; for exported models (issue 13). Files < 4 GiB each.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Write `files` (names inside `dir`, stored under `prefix/`) into the zip file `out`.
 * @throws Error when a file cannot be read or the zip written.
 */
export async function writeZip(out: string, dir: string, files: readonly string[], prefix: string): Promise<void> {
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
      h.writeUInt32LE(0, at + 6); // time, date
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
