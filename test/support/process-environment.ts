/**
 * Sets environment variables of this process (undefined removes one), as a Lambda's configuration
 * would, and returns a function that puts back what was there before.
 */
export function setEnvironment(values: Readonly<Record<string, string | undefined>>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(previous);
}
