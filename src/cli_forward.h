/* cli_forward.h — the `authc forward` verb (cli_forward.c), dispatched from
 * main.c. */
#ifndef AUTHC_SRC_CLI_FORWARD_H
#define AUTHC_SRC_CLI_FORWARD_H

/* argv[0] is the sub-command ("check"); returns the exit status. */
int cli_forward(int argc, char **argv);

#endif
