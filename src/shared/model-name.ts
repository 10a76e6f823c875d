/**
 * How a run's model is named to people, the one rule for the run page, the Runs list and
 * the New-run form: a fine-tune by its backbone ("mobilenet_v1_0.5_160_quant fine-tune"),
 * an MLP with its hidden layers ("MLP (2 hidden)"), else the preset's display name
 * (PRESET_LABELS); a name outside them (a baseline's kind) as it is.
 */
import { toGraph } from './graph';
import { PRESET_LABELS, type ModelSpec } from './layers';

/**
 * @param preset the run's preset column (a PresetName, or a baseline's kind)
 * @param model the run's model spec, when at hand (counts an MLP's hidden layers)
 * @param backbone the run spec's `pretrained.backbone` (RunSummary.backbone), null / absent for a run trained from its seed
 */
export function presetLabel(preset: string, model?: ModelSpec, backbone?: string | null): string {
  if (backbone) return `${backbone} fine-tune`;
  if (preset === 'mlp' && model) {
    const hidden = toGraph(model).nodes.filter((node) => node.layer.type === 'dense').length - 1;
    return `MLP (${hidden} hidden)`;
  }
  return (PRESET_LABELS as Record<string, string>)[preset] ?? preset;
}
