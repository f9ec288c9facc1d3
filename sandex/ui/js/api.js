// REST and admin calls; private requests signed in the browser exactly as Coinbase signs them:
// base64(HMAC-SHA256(base64decode(secret), timestamp + METHOD + path?query + body)), WebCrypto.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const encoder = new TextEncoder();

function base64(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

// The secret as an HMAC key; throws if it is not base64 (Coinbase secrets are).
export async function importSecret(secret) {
  let raw;
  try {
    raw = Uint8Array.from(atob(secret.trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new ApiError(0, "the secret is not base64");
  }
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function answer(response) {
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(response.status, text || response.statusText);
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.message) || response.statusText);
  }
  return data;
}

export class Api {
  constructor() {
    this.creds = null; // {key, passphrase, hmac: CryptoKey}
    this.offset = 0; // seconds added to the browser clock when signing (venue auth window)
  }

  async signIn(key, secret, passphrase) {
    this.creds = { key: key.trim(), passphrase, hmac: await importSecret(secret) };
  }

  signOut() {
    this.creds = null;
  }

  timestamp() {
    return (Date.now() / 1000 + this.offset).toFixed(3);
  }

  async sign(timestamp, method, path, body) {
    const message = encoder.encode(timestamp + method + path + body);
    return base64(await crypto.subtle.sign("HMAC", this.creds.hmac, message));
  }

  // The four CB-ACCESS fields for `method path body`, or the feed's subscribe fields.
  async authFields(method, path, body = "") {
    const timestamp = this.timestamp();
    return { key: this.creds.key, passphrase: this.creds.passphrase, timestamp,
      signature: await this.sign(timestamp, method, path, body) };
  }

  async get(path) {
    return answer(await fetch(path, { headers: { Accept: "application/json" } }));
  }

  async private(method, path, payload) {
    if (!this.creds) throw new ApiError(401, "sign in first");
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const send = async () => {
      const auth = await this.authFields(method, path, body);
      return fetch(path, { method, body: body || undefined, headers: {
        "Content-Type": "application/json", Accept: "application/json",
        "CB-ACCESS-KEY": auth.key, "CB-ACCESS-SIGN": auth.signature,
        "CB-ACCESS-TIMESTAMP": auth.timestamp, "CB-ACCESS-PASSPHRASE": auth.passphrase } });
    };
    const signedWith = this.offset;
    let response = await send();
    if (response.status === 401 || response.status === 400) {
      // A venue checking signatures against its own (virtual) clock: sign again on its time,
      // once a request. Requests sent together (sign-in's three) are refused together: one
      // that finds the offset moved since it signed takes that one instead of fetching it.
      const data = await response.clone().json().catch(() => null);
      if (data && /timestamp/i.test(data.message || "")) {
        if (this.offset === signedWith) {
          const time = await this.get("/time");
          this.offset = time.epoch - Date.now() / 1000;
        }
        response = await send();
      }
    }
    return answer(response);
  }

  async admin(token, command, args) {
    const reading = args === undefined;
    return answer(await fetch(`/admin/${command}`, {
      method: reading ? "GET" : "POST", body: reading ? undefined : JSON.stringify(args),
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } }));
  }
}
