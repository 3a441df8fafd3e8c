export * from "./codes.js";
export * from "./server-error.js";
