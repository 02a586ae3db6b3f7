// The key of a namespaced object in maps and sets: "namespace/name". An object without a
// namespace is in "default", as kubectl and the API server read it.

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

export function metadataKey(metadata: { namespace?: string; name: string }): string {
  return objectKey(metadata.namespace, metadata.name);
}
