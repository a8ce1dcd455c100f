// Preloaded by tools/xso_dev.py into Frappe's socket.io server (`node -r tools/xso_loopback.cjs
// apps/frappe/socketio.js`): a server told only a port listens on 127.0.0.1 instead of every interface.
// Frappe's realtime/index.js calls `io.listen(port)` and offers no setting for the address; this changes
// Node's default for that one development process, not Frappe's code.
"use strict";

const net = require("net");

const HOST = "127.0.0.1";
const listen = net.Server.prototype.listen;

function isPort(value) {
	return typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value));
}

net.Server.prototype.listen = function (...args) {
	if (isPort(args[0]) && typeof args[1] !== "string") {
		args.splice(1, 0, HOST);
	} else if (args[0] && typeof args[0] === "object" && "port" in args[0] && !args[0].host) {
		args[0] = { ...args[0], host: HOST };
	}
	return listen.apply(this, args);
};
