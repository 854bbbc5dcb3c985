/**
 * The admin token lives in this tab's sessionStorage only: it survives a reload, is gone when
 * the tab closes, is never sent anywhere but the Authorization header, and is not a cookie.
 */

const KEY = 'chargegate.adminToken';

export const session = {
  token(): string | null {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  keep(token: string): void {
    try {
      sessionStorage.setItem(KEY, token);
    } catch {
      // Storage refused (private mode): the token then lives in memory until a reload.
    }
  },
  forget(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {}
  },
};
