/** Human-readable units shared by the demo and the benchmark output. */
export const formatUnits = {
  count(value: number): string {
    return value.toLocaleString('en-US');
  },

  bytes(value: number): string {
    if (value < 1024) return `${value} B`;
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let scaled = value / 1024;
    let unit = 0;
    while (scaled >= 1024 && unit < units.length - 1) {
      scaled /= 1024;
      unit += 1;
    }
    return `${scaled.toFixed(scaled < 10 ? 2 : 1)} ${units[unit]}`;
  },

  duration(ms: number): string {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
    const minutes = Math.floor(ms / 60_000);
    return `${minutes} min ${((ms % 60_000) / 1000).toFixed(1)} s`;
  },

  ratio(value: number): string {
    return `${value.toFixed(2)}×`;
  },
};
