// glibc's allocator statistics and trimming (malloc.h), which Swift's Glibc module leaves out.
// Empty on a C library without the header.
#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

#endif
