/** A command that cannot be done as asked: its message is all the operator needs (no stack trace). */
export class AdminError extends Error {}
