// Preloaded (`node -r`) into a measured process: at exit, appends the CPU time it used (user +
// system, milliseconds) to $DEVSNAP_CPU_TIME_FILE, so a busy machine's waiting is told apart from
// the work a command does. CommonJS, so it needs no loader and adds next to nothing to start-up.
const { appendFileSync } = require('node:fs');

const file = process.env.DEVSNAP_CPU_TIME_FILE;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${(user + system) / 1000}\n`);
  });
}
