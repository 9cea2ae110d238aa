import type { Me } from "../api/contract.ts";

export const marketer: Me = {
  id: "u1",
  email: "marketer@postpath.local",
  name: "Mia Marketer",
  role: "MARKETER",
  workspace: { id: "w1", name: "Demo Shop" },
};
