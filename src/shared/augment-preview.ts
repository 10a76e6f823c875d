/**
 * The augmentation preview (`runs.augmentPreview`, engine job `augmentPreview`): the first
 * images of a spec's first training batch as the engine will train on them (its shuffle,
 * augmentation code and seed; src/engine/augment-preview.ts). Zod only.
 */
import { z } from 'zod';

export const AugmentPreviewSchema = z.object({
  height: z.number().int(),
  width: z.number().int(),
  channels: z.union([z.literal(1), z.literal(3)]),
  images: z.array(
    z.object({
      /** The item's position in the pack (pack order). */
      packIndex: z.number().int(),
      /** Its class name as trained (a random one with random labels). */
      label: z.string(),
      /** uint8 HWC pixels, base64 (the engine side); main adds `png` for the page. */
      pixelsBase64: z.string(),
      /** A PNG data URL of the same pixels (added by main). */
      png: z.string().optional(),
    }),
  ),
});
export type AugmentPreview = z.infer<typeof AugmentPreviewSchema>;
