/** The hash slot (0–16383) Redis Cluster assigns a key to, honouring `{hash tags}`; the package ships no types. */
declare module "cluster-key-slot" {
  export default function calculateSlot(key: string): number;
}
