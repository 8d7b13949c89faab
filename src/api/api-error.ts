// The error type the API throws on purpose; errors.ts turns it (and everything else) into a response.
export interface ErrorDetail {
  location: string;
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: ErrorDetail[],
    /** The 1-based item of a batch that failed it. */
    public item?: number,
  ) {
    super(message);
  }
}
