export interface ApiResponse {
  status: number;
  headers: Headers;
  // Tests read loosely shaped JSON; every access is checked by an assertion.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A fetch answer as tests read it: parsed JSON, or the text itself (HTML pages), or undefined when empty. */
export async function readAnswer(response: Response): Promise<ApiResponse> {
  const text = await response.text();
  let body: unknown = undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: response.headers, body };
}
