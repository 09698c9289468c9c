/** Request size limits, configurable (see config.ts). */
export interface Limits {
  /** Largest JSON request body. */
  maxJsonBytes: number;
  /** Largest blob upload. */
  maxUploadBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxJsonBytes: 1024 * 1024,
  maxUploadBytes: 64 * 1024 ** 3,
};
