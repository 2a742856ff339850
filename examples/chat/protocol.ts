// What the chat's page and server say to each other, and the limits both sides know. The page
// (page.ts) embeds these values, so the browser refuses a message the server would refuse.

/** The longest message text, in UTF-8 bytes: the page checks it before sending. */
export const maxTextBytes = 4000;
/**
 * The server's readMessageMax: the text is the whole message, so this is the text's limit. A
 * larger message is a protocol violation (1009), which the page prevents.
 */
export const readMessageMax = maxTextBytes;
/** How many recent messages a late joiner is shown. */
export const historySize = 50;
/** Names: letters, digits, `-`, `_` and `.`, 1 to 24 of them. */
export const namePattern = /^[A-Za-z0-9_.-]{1,24}$/;

/** Something that happened in the room; `seq` orders every event of the whole room. */
export type RoomEvent =
  | { type: 'message'; seq: number; name: string; text: string; time: number }
  | { type: 'join' | 'leave'; seq: number; name: string; count: number };

/** The first thing a member is told: who it is, who is here, and what was said recently. */
export interface Welcome {
  type: 'welcome';
  name: string;
  count: number;
  instance: string;
  maxTextBytes: number;
  history: RoomEvent[];
}

/** A name a client asked for, made valid: kept if it is, else a guest name. */
export function validName(requested: string | null): string {
  if (requested !== null && namePattern.test(requested)) return requested;
  return `guest-${Math.floor(1000 + Math.random() * 9000)}`;
}

/** Candidates for a name already taken: `alice`, `alice-2`, `alice-3`… */
export function nameCandidates(name: string, count = 8): string[] {
  const out = [name];
  for (let i = 2; i <= count; i++) out.push(`${name.slice(0, 21)}-${i}`);
  return out;
}
