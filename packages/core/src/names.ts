// The names the framework checks, each pattern written once: the core, the service kit and the
// CLI's `new` refuse the same names.

/** A service: lowercase letters, digits and dashes, starting with a letter (`order-history`). */
export const serviceNamePattern = /^[a-z][a-z0-9-]*$/

/** An event's subject: `<Entity>.<pastTenseVerb>`, e.g. `User.nameUpdated`. */
export const subjectPattern = /^[A-Z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$/

/** A handler, the second half of a consumer group's name: camelCase letters and digits. */
export const handlerNamePattern = /^[a-z][a-zA-Z0-9]*$/
