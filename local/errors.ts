/** Errors of the local engine: shown to the user as they are, so each says what to do. */
export class LocalEngineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalEngineError';
  }
}
