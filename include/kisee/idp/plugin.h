/*
 * kisee identity-backend plugins: the stable C ABI of
 *   [identity_backend]
 *   class = "plugin:/usr/lib/kisee/libmybackend.so"
 *
 * A plugin is a shared library exporting KISEE_PLUGIN_ENTRY, a function that
 * returns its function table for the host's ABI version (or NULL when it
 * cannot serve that version). kisee refuses to start, with a one-line error,
 * when the library cannot be loaded, has no entry point, returns NULL, a
 * table of another ABI version or without a required function, or when its
 * create() fails. The ABI only grows by appending members to the structs
 * below (struct_size tells which exist) and changes KISEE_PLUGIN_ABI_VERSION
 * (and the entry point's name) for anything else.
 *
 * Conventions:
 * - Strings are kisee_str (pointer + size, UTF-8, not NUL-terminated); those
 *   passed to a plugin are valid for the duration of the call only.
 * - A plugin returns values through the host's set_user/set_text on the
 *   kisee_out slot of the call; the host copies them at once.
 * - Every function may be called from several threads at once: plugins are
 *   thread-safe. They may block (disk, network); kisee calls them off its
 *   I/O threads. They must not throw C++ exceptions or longjmp out.
 * - Secrets (passwords, tokens) must never be logged.
 * - The host never passes an empty password to identify(): empty passwords
 *   are wrong passwords.
 * Example: examples/flatfile/ (users in a `username:email:hash` file).
 */
#ifndef KISEE_IDP_PLUGIN_H_
#define KISEE_IDP_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* KISEE_PLUGIN_ABI_VERSION is the version this header describes. */
#define KISEE_PLUGIN_ABI_VERSION 1u

/* KISEE_PLUGIN_ENTRY is the name of the exported kisee_plugin_entry_fn. */
#define KISEE_PLUGIN_ENTRY "kisee_backend_plugin_v1"

/* kisee_str is a byte string: `size` bytes at `data` (NULL when size is 0). */
typedef struct kisee_str {
  const char* data;
  size_t size;
} kisee_str;

/* kisee_status is every plugin function's result. */
typedef enum kisee_status {
  KISEE_OK = 0,
  KISEE_NOT_FOUND = 1,      /* unknown user, or wrong password in identify() */
  KISEE_ALREADY_EXISTS = 2, /* register_user(): the username or e-mail is taken (409) */
  KISEE_REJECTED = 3,       /* register_user()/set_password(): refused; the message set with
                               set_text is shown to the client (400) */
  KISEE_UNAVAILABLE = 4,    /* the store cannot be reached now (503 + Retry-After) */
  KISEE_ERROR = 5           /* anything else (503; the message set with set_text is logged) */
} kisee_status;

/* kisee_user is what a backend knows about one account. user_id is the
 * stable id (JWT `sub`, PATCH /users/{user_id}/). */
typedef struct kisee_user {
  kisee_str user_id;
  kisee_str username;
  kisee_str email;
  int is_superuser;
} kisee_user;

/* kisee_option is one [identity_backend.options] value. */
typedef enum kisee_option_type {
  KISEE_OPTION_STRING = 0,
  KISEE_OPTION_INTEGER = 1,
  KISEE_OPTION_FLOAT = 2,
  KISEE_OPTION_BOOL = 3
} kisee_option_type;

typedef struct kisee_option {
  kisee_str name;
  kisee_option_type type;
  kisee_str string; /* KISEE_OPTION_STRING */
  int64_t integer;  /* KISEE_OPTION_INTEGER */
  double real;      /* KISEE_OPTION_FLOAT */
  int boolean;      /* KISEE_OPTION_BOOL: 0 or 1 */
} kisee_option;

/* KISEE_HASH_MAX bounds the length of a hash from kisee_host.hash_password. */
#define KISEE_HASH_MAX 512u

/* kisee_out is the host's opaque output slot of one call: a plugin fills
 * it with kisee_host.set_user / set_text (or hands it on to
 * check_password_policy), and never reads it. */
typedef struct kisee_out kisee_out;

/* Log levels of kisee_host.log. */
enum { KISEE_LOG_DEBUG = 0, KISEE_LOG_INFO = 1, KISEE_LOG_WARN = 2, KISEE_LOG_ERROR = 3 };

/* kisee_host is what kisee offers a plugin. Valid from create() until
 * destroy() returns. Every function is thread-safe. */
typedef struct kisee_host {
  uint32_t abi_version; /* KISEE_PLUGIN_ABI_VERSION of the host */
  uint32_t struct_size; /* sizeof(kisee_host) of the host */
  void* context;        /* the first argument of the functions below */
  /* settings_dir: the settings file's directory, for relative paths (NUL-terminated). */
  const char* settings_dir;
  /* log writes one line to kisee's log (NUL-terminated message). */
  void (*log)(void* context, int level, const char* message);
  /* set_user / set_text fill the call's output slot (copied at once). */
  void (*set_user)(kisee_out* out, const kisee_user* user);
  void (*set_text)(kisee_out* out, kisee_str text);
  /* hash_password writes the argon2id PHC string of `password` (kisee's
   * [passwords] parameters), NUL-terminated, into `buffer` (`capacity`
   * bytes) and returns its length without the NUL; 0 on failure or when
   * `capacity` is too small (KISEE_HASH_MAX always suffices). */
  size_t (*hash_password)(void* context, kisee_str password, char* buffer, size_t capacity);
  /* verify_password is 1 when `password` matches `encoded` (argon2id, bcrypt,
   * sha512-crypt, yescrypt), else 0. */
  int (*verify_password)(void* context, kisee_str password, kisee_str encoded);
  /* verify_dummy spends the time of one verification: call it for unknown
   * users so that they cost what a wrong password costs. */
  void (*verify_dummy)(void* context, kisee_str password);
  /* needs_rehash is 1 when `encoded` should be replaced by a fresh
   * hash_password() after a successful login (legacy format, old
   * parameters), else 0. */
  int (*needs_rehash)(void* context, kisee_str encoded);
  /* check_password_policy is KISEE_OK, or KISEE_REJECTED with the reason set
   * with set_text on `reason` ([passwords] min/max length, common passwords). */
  kisee_status (*check_password_policy)(void* context, kisee_str password, kisee_out* reason);
} kisee_host;

/* kisee_backend_plugin is a plugin's function table. `instance` is what
 * create() returned. Optional members may be NULL. */
typedef struct kisee_backend_plugin {
  uint32_t abi_version; /* KISEE_PLUGIN_ABI_VERSION the plugin was built for */
  uint32_t struct_size; /* sizeof(kisee_backend_plugin) of the plugin */
  const char* name;     /* for messages (NUL-terminated) */

  /* create builds an instance from the options. On failure, a one-line
   * reason set with set_text on `error`. Required. */
  kisee_status (*create)(const kisee_host* host, const kisee_option* options, size_t option_count,
                         void** instance, kisee_out* error);
  /* destroy releases an instance. Required. */
  void (*destroy)(void* instance);

  /* identify: KISEE_OK and set_user when `password` is right; KISEE_NOT_FOUND
   * for an unknown user or a wrong password. Required. */
  kisee_status (*identify)(void* instance, kisee_str username, kisee_str password, kisee_out* user);
  /* get_user_by_username / get_user_by_email: KISEE_OK and set_user, or
   * KISEE_NOT_FOUND. Required. */
  kisee_status (*get_user_by_username)(void* instance, kisee_str username, kisee_out* user);
  kisee_status (*get_user_by_email)(void* instance, kisee_str email, kisee_out* user);

  /* register_user creates an account (after host->check_password_policy).
   * NULL: registration is not available (403). */
  kisee_status (*register_user)(void* instance, kisee_str username, kisee_str password,
                                kisee_str email, int is_superuser, kisee_out* message);
  /* set_password replaces the password of `user`. NULL: password changes
   * are not available (403). KISEE_NOT_FOUND when the user is gone. */
  kisee_status (*set_password)(void* instance, const kisee_user* user, kisee_str password,
                               kisee_out* message);
  /* reset_stamp sets (set_text) an opaque value that changes whenever the
   * password of `user` changes and whenever new_reset_stamp is called;
   * reset tokens are accepted only while it is unchanged. new_reset_stamp
   * changes it and sets the new value. Both NULL: kisee keeps a counter in
   * its memory (single use then holds within one process only). */
  kisee_status (*reset_stamp)(void* instance, const kisee_user* user, kisee_out* stamp);
  kisee_status (*new_reset_stamp)(void* instance, const kisee_user* user, kisee_out* stamp);
  /* send_reset delivers a password-reset token itself. NULL: kisee e-mails
   * it through [email]. */
  kisee_status (*send_reset)(void* instance, const kisee_user* user, kisee_str token);
  /* is_alive is 0 when the store cannot be reached (/health red). NULL:
   * always alive. */
  int (*is_alive)(void* instance);
  /* capabilities returns the KISEE_CAN_* flags of this instance (say, from
   * its options). NULL: KISEE_CAN_REGISTER when register_user is given,
   * KISEE_CAN_CHANGE_PASSWORDS when set_password is. kisee never calls a
   * function whose capability is off. */
  uint32_t (*capabilities)(void* instance);
} kisee_backend_plugin;

/* Flags of kisee_backend_plugin.capabilities. */
#define KISEE_CAN_REGISTER 1u
#define KISEE_CAN_CHANGE_PASSWORDS 2u

/* kisee_plugin_entry_fn is the type of the exported KISEE_PLUGIN_ENTRY. It
 * returns a table that lives as long as the library is loaded, or NULL when
 * the plugin cannot serve `host_abi_version`. */
typedef const kisee_backend_plugin* (*kisee_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* KISEE_IDP_PLUGIN_H_ */
