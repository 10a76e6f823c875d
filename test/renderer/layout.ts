/** happy-dom does no layout: give the grid's scroll box the size a browser would. */
export function sizeThumbGrid(width = 800, height = 620): void {
  const proto = window.HTMLElement.prototype;
  for (const [dim, v] of [['clientWidth', width], ['clientHeight', height]] as const) {
    const orig = Object.getOwnPropertyDescriptor(window.Element.prototype, dim) ?? Object.getOwnPropertyDescriptor(proto, dim);
    Object.defineProperty(proto, dim, {
      configurable: true,
      get(this: HTMLElement) {
        return this.getAttribute?.('data-testid') === 'thumb-grid' ? v : (orig?.get?.call(this) ?? 0);
      },
    });
  }
}
