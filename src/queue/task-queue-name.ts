/** One queue per specialty; `general` is a specialty like the others. */
export function taskQueueName(specialty: string): string {
  return `tasks-${specialty}`;
}
