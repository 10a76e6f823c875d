/**
 * Files dropped anywhere on the window: `dragging` is true while files are dragged over
 * it (for an overlay), and `onFiles` gets them on drop. Drags that carry no files (text,
 * links) are left to the page. Listeners live from mount to unmount of the calling component.
 */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

export function useFileDrop(onFiles: (files: FileList) => void): { dragging: Ref<boolean> } {
  const dragging = ref(false);
  const hasFiles = (e: DragEvent): boolean => !!e.dataTransfer && Array.from(e.dataTransfer.types ?? []).includes('Files');
  function onDragOver(e: DragEvent): void {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragging.value = true;
  }
  function onDragLeave(e: DragEvent): void {
    // Leaving the window (not just moving between elements).
    if (e.relatedTarget === null) dragging.value = false;
  }
  function onDrop(e: DragEvent): void {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragging.value = false;
    const files = e.dataTransfer?.files;
    if (files && files.length) onFiles(files);
  }
  onMounted(() => {
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('dragleave', onDragLeave);
    window.addEventListener('drop', onDrop);
  });
  onBeforeUnmount(() => {
    window.removeEventListener('dragover', onDragOver);
    window.removeEventListener('dragleave', onDragLeave);
    window.removeEventListener('drop', onDrop);
  });
  return { dragging };
}
