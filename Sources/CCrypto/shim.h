/* SHA-256/512 through OpenSSL's direct digest functions rather than EVP: EVP's first use
   loads the configuration and the default provider and builds its name tables, about half
   a millisecond of every devenv start; the direct functions use the same assembly (SHA-NI,
   AVX2) with none of that. OpenSSL 3 marks them deprecated in favour of EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
