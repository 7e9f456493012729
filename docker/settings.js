// Node-RED settings for the container: headless, credentials encrypted with a pinned secret from the environment.
module.exports = {
  flowFile: 'flows.json',
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET,
  uiPort: Number(process.env.PORT || 1880),
  // Set NODE_RED_DISABLE_EDITOR=true for a locked-down runtime (the webhook and admin metrics still answer).
  disableEditor: process.env.NODE_RED_DISABLE_EDITOR === 'true',
  logging: { console: { level: process.env.NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
};
