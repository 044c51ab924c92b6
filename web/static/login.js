import { api, showError } from "./common.js";

const form = document.getElementById("signin");
const error = document.getElementById("error");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError(error, "");
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await api("POST", "/api/v1/session", { token: form.token.value });
    location.assign("/");
  } catch (e) {
    showError(error, e.message);
    form.token.focus();
  } finally {
    button.disabled = false;
  }
});
