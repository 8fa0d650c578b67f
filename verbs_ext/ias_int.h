/* libias internals shared between its source files (not installed). */
#ifndef IAS_VERBS_EXT_IAS_INT_H
#define IAS_VERBS_EXT_IAS_INT_H

/* path if set, else $IAS_SOCKET, else the default socket path. */
const char *ias_socket_path(const char *path);

struct ias_client;
/* Take the socket out of the client (the client keeps no fd afterwards). */
int ias_client_detach(struct ias_client *c);

#endif
