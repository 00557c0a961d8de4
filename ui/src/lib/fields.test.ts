import { describe, expect, it } from "vitest";
import type { Field, FieldProblem } from "../bindings";
import { fieldMessage, normalizePhrase } from "./fields";
import { en, zhCN } from "./messages";

const fields: Field[] = ["name", "appid", "secret", "serviceUrl", "header", "token", "proxy", "apiBase"];
const problems: FieldProblem[] = ["empty", "shape", "controlCharacter", "tooLong", "notAUrl", "needsHttps", "incomplete", "credentialInUrl"];

describe("wizard field hints", () => {
  it("have words in both languages for every problem Rust can report", () => {
    for (const field of fields) {
      for (const problem of problems) {
        const key = fieldMessage(field, problem);
        expect(zhCN[key], `${field}/${problem}`).toBeTruthy();
        expect(en[key], `${field}/${problem}`).toBeTruthy();
      }
    }
  });

  it("say what is wrong with the field that has it", () => {
    expect(fieldMessage("appid", "empty")).toBe("field.appid.empty");
    expect(fieldMessage("appid", "shape")).toBe("field.appid.shape");
    expect(fieldMessage("secret", "shape")).toBe("field.secret.shape");
    expect(fieldMessage("apiBase", "needsHttps")).toBe("field.url.https");
    expect(fieldMessage("header", "incomplete")).toBe("field.header.incomplete");
    expect(fieldMessage("token", "empty")).toBe("field.required");
  });

  it("accept full-width digits in the confirm phrase", () => {
    expect(normalizePhrase(" １２ ")).toBe("12");
  });
});
