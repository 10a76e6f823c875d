/** Pre-trained models: the fine-tune spec the host builds from a model file for a dataset (`models.pretrainedSpec`), a features run's backbone (`models.backbone`). */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Params, Result } from '../../shared/api';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export const useModelsStore = defineStore('models', () => {
  const loading = ref(false);
  const error = ref<string | null>(null);

  /** One request with `loading` set meanwhile; a refusal's text goes to `error` and gives null. */
  async function ask<N extends 'models.pretrainedSpec' | 'models.backbone'>(name: N, params: Params<N>): Promise<Result<N> | null> {
    loading.value = true;
    error.value = null;
    try {
      return await useApi().call(name, params);
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      loading.value = false;
    }
  }

  /**
   * The model, the run spec's `pretrained` part and a summary line for a fine-tune of `params.file` on `params.datasetId`.
   * @returns null on a refusal, whose text is in `error` (it names the field: "file: …", "labels: …").
   */
  const pretrainedSpec = (params: Params<'models.pretrainedSpec'>): Promise<Result<'models.pretrainedSpec'> | null> => ask('models.pretrainedSpec', params);

  /**
   * A TFLite backbone for a features run: its nodes, default node (last global pooling), input shape and range.
   * @returns null on a refusal, whose text is in `error` ("backbone.file: …").
   */
  const backbone = (params: Params<'models.backbone'>): Promise<Result<'models.backbone'> | null> => ask('models.backbone', params);

  return { loading, error, pretrainedSpec, backbone };
});
