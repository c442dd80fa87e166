// Preloaded into linux.uml by scripts/uml-run. Debian's UML 6.1 saves a guest process's FPU state
// with PTRACE_GETREGSET(NT_X86_XSTATE) into a fixed 832-byte buffer (x87/SSE + header + AVX) and
// restores it with PTRACE_SETREGSET of the same size. Host kernels refuse a SETREGSET that is not
// the full XSAVE size (EFAULT), which is larger than 832 bytes on CPUs with AVX-512 or AMX: every
// guest process then dies at its first context switch ("ptrace set fp regs failed, errno = 14").
// Fixed upstream in later UML kernels; here, a SETREGSET too short is completed with the thread's
// current state beyond UML's part, and sent at the full size. The guest is told not to use
// AVX-512 (GLIBC_TUNABLES in uml-run), so the part UML keeps is all the state its threads use.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(int, pid_t, void*, void*);

long ptrace(enum __ptrace_request request, ...) {
    static ptrace_fn real;
    if (real == NULL) {
        real = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    }
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void* addr = va_arg(ap, void*);
    void* data = va_arg(ap, void*);
    va_end(ap);
    if (request == PTRACE_SETREGSET && (unsigned long)addr == NT_X86_XSTATE && data != NULL) {
        const struct iovec* part = data;
        static _Thread_local unsigned char full[65536] __attribute__((aligned(64)));
        struct iovec whole = {full, sizeof full};
        if (real(PTRACE_GETREGSET, pid, addr, &whole) == 0 && whole.iov_len > part->iov_len) {
            memcpy(full, part->iov_base, part->iov_len);
            return real(PTRACE_SETREGSET, pid, addr, &whole);
        }
    }
    return real((int)request, pid, addr, data);
}
