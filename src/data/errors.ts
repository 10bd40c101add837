/** A problem with a data file or folder: names the file, what was wrong and what was expected. Exit code 2. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}
