/**
 * Tarjan's algorithm, iterative so a long chain of tables cannot overflow the stack. A component
 * is returned only after every component it reaches, so with edges pointing from child to parent
 * the result lists parents before children.
 */
export function stronglyConnectedComponents<T>(
  nodes: readonly T[],
  successors: (node: T) => Iterable<T>,
): T[][] {
  const index = new Map<T, number>();
  const lowLink = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const components: T[][] = [];
  let counter = 0;

  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: T; next: Iterator<T> }[] = [];
    const visit = (node: T) => {
      index.set(node, counter);
      lowLink.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: successors(node)[Symbol.iterator]() });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: T; next: Iterator<T> };
      const step = frame.next.next();
      if (!step.done) {
        const successor = step.value;
        if (!index.has(successor)) visit(successor);
        else if (onStack.has(successor)) {
          lowLink.set(
            frame.node,
            Math.min(lowLink.get(frame.node) as number, index.get(successor) as number),
          );
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) {
        lowLink.set(
          parent.node,
          Math.min(lowLink.get(parent.node) as number, lowLink.get(frame.node) as number),
        );
      }
      if (lowLink.get(frame.node) === index.get(frame.node)) {
        const component: T[] = [];
        let member: T;
        do {
          member = stack.pop() as T;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component.reverse());
      }
    }
  }
  return components;
}
