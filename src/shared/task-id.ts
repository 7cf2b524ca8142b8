/** The issue a task works on. One live task per issue, so this is also the task's identity. */
export interface IssueRef {
  owner: string;
  repo: string;
  number: number;
}

/** `owner/repo#12`, the form people type (`ccc cancel owner/repo#12`). */
export function formatTaskId(ref: IssueRef): string {
  return `${ref.owner}/${ref.repo}#${ref.number}`;
}

const TASK_ID = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})#(\d{1,10})$/;

export function parseTaskId(text: string): IssueRef | undefined {
  const match = TASK_ID.exec(text.trim());
  if (!match) return undefined;
  return { owner: match[1]!, repo: match[2]!, number: Number(match[3]) };
}
