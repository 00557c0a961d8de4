// The wizard's field hints in the operator's language. The rules themselves live in Rust
// (`check_account` answers which field has which problem); this only picks the words.
import type { Field, FieldProblem } from "../bindings";
import type { MessageKey } from "./messages";

/** The message for one problem of one field. */
export function fieldMessage(field: Field, problem: FieldProblem): MessageKey {
  switch (problem) {
    case "controlCharacter":
      return "field.control";
    case "empty":
      return field === "appid" ? "field.appid.empty" : field === "secret" ? "field.secret.empty" : field === "name" ? "field.name.empty" : "field.required";
    case "shape":
      if (field === "appid") return "field.appid.shape";
      if (field === "secret") return "field.secret.shape";
      if (field === "header") return "field.header.shape";
      if (field === "token") return "field.token.shape";
      return "field.url.invalid";
    case "tooLong":
      return "field.name.tooLong";
    case "notAUrl":
      return "field.url.invalid";
    case "needsHttps":
      return "field.url.https";
    case "incomplete":
      return "field.header.incomplete";
    case "credentialInUrl":
      return "field.url.credential";
    case "localWithoutConsent":
      return "field.url.local";
  }
}

/** Full-width digits (typed with a Chinese input method) count as ASCII digits. */
export function normalizePhrase(typed: string): string {
  return typed.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}
