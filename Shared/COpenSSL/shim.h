#ifndef LEAD_PIPELINE_COPENSSL_SHIM_H
#define LEAD_PIPELINE_COPENSSL_SHIM_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

// Swift does not import function-like macros; these constants carry their values.
static const uint64_t copenssl_op_ignore_unexpected_eof = SSL_OP_IGNORE_UNEXPECTED_EOF;
static const uint64_t copenssl_op_no_compression = SSL_OP_NO_COMPRESSION;

#endif
