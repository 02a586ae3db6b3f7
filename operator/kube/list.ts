// Paged LIST over the raw JSON endpoints, so a large cluster is read in bounded chunks.

/** One page of a LIST as the API server sends it. */
export interface RawList<T> {
  items?: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

export const PAGE_SIZE = 500;

export async function listAllPages<T>(
  fetchPage: (continueToken: string | undefined) => Promise<RawList<T>>,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    items.push(...(page.items ?? []));
    token = page.metadata?.continue || undefined;
  } while (token);
  return items;
}
