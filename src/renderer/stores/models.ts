/** Pre-trained models: the fine-tune spec the host builds from a model file for a dataset (`models.pretrainedSpec`). */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Params, Result } from '../../shared/api';
import { useApi } from '../api';
import { errorText } from '../api/errors';

export const useModelsStore = defineStore('models', () => {
  const loading = ref(false);
  const error = ref<string | null>(null);

  /**
   * The model, the run spec's `pretrained` part and a summary line for a fine-tune of `params.file` on `params.datasetId`.
   * @returns null on a refusal, whose text is in `error` (it names the field: "file: …", "labels: …").
   */
  async function pretrainedSpec(params: Params<'models.pretrainedSpec'>): Promise<Result<'models.pretrainedSpec'> | null> {
    loading.value = true;
    error.value = null;
    try {
      return await useApi().call('models.pretrainedSpec', params);
    } catch (e) {
      error.value = errorText(e);
      return null;
    } finally {
      loading.value = false;
    }
  }

  return { loading, error, pretrainedSpec };
});
