// message: send a JSON message to an mTLS-authenticated HTTPS API with this
// directory's identity (certified.md §6).
#include "cli.h"

int main(int argc, char** argv) {
  CLI::App app{"Send a json-message to an mTLS-authenticated HTTPS-REST-API.", "message"};
  certified_cli::MessageArgs args;
  certified_cli::AddMessageOptions(&app, args);
  if (auto status = certified_cli::ParseArgs(app, argc, argv)) return *status;
  return certified_cli::RunMessage(args);
}
