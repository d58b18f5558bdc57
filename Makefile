# cvmm - one build for the programs, tests, fuzzers and benchmarks.
#   make            build/cvmm, build/cvmm-agent
#   make demo       install deps, build, run the main job
#   make check      install deps, build, unit tests (plain and ASan+UBSan), nested KVM tests
#   make fuzz       libFuzzer targets, each run FUZZ_SECONDS
#   make bench      benchmarks (ratios against a baseline measured in the same run)
# Sources are discovered: every .c under a module directory goes into
# libcvmm.a except the program mains; tests/test_*.c, tests/fuzz/fuzz_*.c and
# bench/bench_*.c each become one program.

CC       ?= gcc
FUZZ_CC  ?= clang
O        ?= build
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I/usr/include/tss2
LDLIBS   := -lssl -lcrypto -ljwt -ljansson -lmicrohttpd -lcurl -ltss2-esys -ltss2-mu -ltss2-rc \
            -ltss2-tctildr -lfdt -luring -lseccomp -lselinux -lcap-ng -lpthread -lelf -llz4 -llzma -lz -lsystemd
ASAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60

MODULES  := common firmware sev tdx measured-boot attestation vmm
MAINS    := vmm/main.c attestation/agent_main.c
# attestation/agent/ is the guest agent's own code: in cvmm-agent, not libcvmm.a.
# attestation/proto/ (binding, wire protocol, secret wrapping) is in both.
AGENT_SRCS := attestation/agent_main.c $(shell find attestation/agent attestation/proto -name '*.c' | sort) \
              $(filter-out common/keystore.c,$(sort $(wildcard common/*.c))) sev/sim_wire.c tdx/sim_wire.c
LIB_SRCS := $(filter-out $(MAINS) attestation/agent/%,$(shell find $(MODULES) -name '*.c' | sort))
HDRS     := $(shell find $(MODULES) -name '*.h')
TEST_HDRS := $(wildcard tests/*.h)
FUZZ_HDRS := $(wildcard tests/fuzz/*.h)
BENCH_HDRS := $(wildcard bench/*.h)
TESTS    := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
FUZZERS  := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
BENCHES  := $(patsubst bench/%.c,%,$(wildcard bench/bench_*.c))

.PHONY: all demo check unit unit-asan nested fuzz bench deps clean policy man install packaging
all: $(O)/cvmm $(O)/cvmm-agent

deps:
	@scripts/deps

# ---- objects, per build flavour ----
$(O)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@
$(O)/asan/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -c $< -o $@
$(O)/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) -Wno-unused-command-line-argument -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(O)/libcvmm.a: $(LIB_SRCS:%.c=$(O)/obj/%.o)
	@rm -f $@; ar rcsP $@ $^
$(O)/asan/libcvmm.a: $(LIB_SRCS:%.c=$(O)/asan/obj/%.o)
	@rm -f $@; ar rcsP $@ $^
$(O)/fuzz/libcvmm.a: $(LIB_SRCS:%.c=$(O)/fuzz/obj/%.o)
	@rm -f $@; ar rcsP $@ $^

# ---- programs ----
$(O)/obj/vmm/main.o $(O)/asan/obj/vmm/main.o: CFLAGS += -DCVMM_VERSION=\"$(VERSION)\"
$(O)/cvmm: $(O)/obj/vmm/main.o $(O)/libcvmm.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
# The agent runs inside minimal guests (busybox initrd): link it statically.
# libcrypto.a (SHA-512) wants pthread and dl after it when linked statically.
$(O)/cvmm-agent: $(AGENT_SRCS) $(HDRS)
	@mkdir -p $(O)
	$(CC) $(CFLAGS) -static -o $@ $(AGENT_SRCS) -lcrypto -lpthread -ldl
$(O)/asan/cvmm-agent: $(AGENT_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -o $@ $(AGENT_SRCS) -lcrypto

# ---- tests ----
$(O)/tests/%: tests/%.c $(O)/libcvmm.a $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS) -lcmocka
$(O)/asan/tests/%: tests/%.c $(O)/asan/libcvmm.a $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -o $@ $(filter %.c %.a,$^) $(LDLIBS) -lcmocka
$(O)/asan/cvmm: $(O)/asan/obj/vmm/main.o $(O)/asan/libcvmm.a
	$(CC) $(CFLAGS) $(ASAN) -o $@ $^ $(LDLIBS)
# test_uapi checks cvmm's KVM/SEV/TDX definitions against copies of the Linux
# headers, which use the same names: the kernel side is a second object,
# tests/uapi_ref.c, built against tests/fixtures/uapi instead of the host's.
UAPI_REF_DEPS := $(TEST_HDRS) $(wildcard tests/fixtures/uapi/*/*.h)
$(O)/obj/tests/uapi_ref.o $(O)/asan/obj/tests/uapi_ref.o: CFLAGS += -Itests/fixtures/uapi
$(O)/obj/tests/uapi_ref.o $(O)/asan/obj/tests/uapi_ref.o: $(UAPI_REF_DEPS)
$(O)/tests/test_uapi: tests/test_uapi.c $(O)/obj/tests/uapi_ref.o $(O)/libcvmm.a $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS) -lcmocka
$(O)/asan/tests/test_uapi: tests/test_uapi.c $(O)/asan/obj/tests/uapi_ref.o $(O)/asan/libcvmm.a $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS) -lcmocka

# Agent-only code is not in libcvmm.a: its test and fuzz target link the
# file they test, before the library (it uses common/'s reader).
AGENT_TESTED := attestation/agent/snp_rsp.c
$(O)/tests/test_agent: tests/test_agent.c $(AGENT_TESTED) $(O)/libcvmm.a $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS) -lcmocka
$(O)/asan/tests/test_agent: tests/test_agent.c $(AGENT_TESTED) $(O)/asan/libcvmm.a $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -o $@ $(filter %.c %.a,$^) $(LDLIBS) -lcmocka
$(O)/fuzz/fuzz_agent_snp_rsp: tests/fuzz/fuzz_agent_snp_rsp.c $(AGENT_TESTED) $(O)/fuzz/libcvmm.a $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c %.a,$^) $(LDLIBS)
unit: all $(TESTS:%=$(O)/tests/%)
	@scripts/run-tests $(O) $(TESTS)
	@tests/api-openapi $(O)/cvmm >$(O)/tests/api-openapi.log 2>&1 && echo "PASS api-openapi ($(O))" || \
		{ echo "FAIL api-openapi: see $(O)/tests/api-openapi.log"; grep -v '^ok' $(O)/tests/api-openapi.log; exit 1; }
unit-asan: $(TESTS:%=$(O)/asan/tests/%) $(O)/asan/cvmm $(O)/asan/cvmm-agent
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CVMM=$(O)/asan/cvmm scripts/run-tests $(O)/asan $(TESTS)

nested: all
	@tests/nested/run --build $(O)

# The SELinux policy module (policy/, docs/security.md), compiled with the
# reference policy's devel Makefile (selinux-policy-dev: m4, checkmodule,
# semodule_package) into $(O)/policy/cvmm.pp.
POLICY_DEVEL ?= /usr/share/selinux/devel/Makefile
$(O)/policy/cvmm.pp: policy/cvmm.te policy/cvmm.fc policy/cvmm.if
	@rm -rf $(O)/policy && mkdir -p $(O)/policy && cp $^ $(O)/policy/
	@$(MAKE) --no-print-directory -C $(O)/policy -f $(POLICY_DEVEL) cvmm.pp >$(O)/policy/build.log 2>&1 || \
		{ cat $(O)/policy/build.log; exit 1; }
	@echo "policy: $(O)/policy/cvmm.pp"
policy: $(O)/policy/cvmm.pp

# ---- man pages (scdoc), install, packaging (docs/api.md "Installing") ----
MANS := $(patsubst docs/man/%.scd,$(O)/man/%,$(wildcard docs/man/*.scd))
$(O)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@
man: $(MANS)
PREFIX ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/cvmm $(foreach s,1 5 8,$(DESTDIR)$(PREFIX)/share/man/man$(s))
	install -m 0755 $(O)/cvmm $(O)/cvmm-agent $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; done
	install -m 0644 scripts/completion/cvmm $(DESTDIR)$(PREFIX)/share/bash-completion/completions/cvmm
	sed 's|/usr/bin/cvmm|$(PREFIX)/bin/cvmm|g' scripts/systemd/cvmm@.service >$(DESTDIR)$(UNITDIR)/cvmm@.service
	install -m 0644 scripts/systemd/example.json $(DESTDIR)$(PREFIX)/share/cvmm/example.json
	if [ -f $(O)/policy/cvmm.pp ]; then install -d $(DESTDIR)$(PREFIX)/share/selinux/packages && \
		install -m 0644 $(O)/policy/cvmm.pp $(DESTDIR)$(PREFIX)/share/selinux/packages/; fi
# the unit installed into a scratch root and checked there; the .deb where
# dpkg-buildpackage and lintian are present (tests/packaging)
packaging: man
	@tests/packaging $(O)

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory policy
	@$(MAKE) --no-print-directory packaging
	@$(MAKE) --no-print-directory nested

# ---- fuzzing ----
$(O)/fuzz/%: tests/fuzz/%.c $(O)/fuzz/libcvmm.a $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c %.a,$^) $(LDLIBS)
fuzz: deps $(FUZZERS:%=$(O)/fuzz/%)
	@scripts/run-fuzzers $(O)/fuzz $(FUZZ_SECONDS) $(FUZZERS)

# ---- benchmarks ----
$(O)/bench/%: bench/%.c $(O)/libcvmm.a $(BENCH_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS)
bench: deps all $(BENCHES:%=$(O)/bench/%)
	@for b in $(BENCHES); do $(O)/bench/$$b || exit 1; done
	@if [ -x bench/nested-boot ]; then bench/nested-boot --build $(O); fi
	@if [ -x bench/nested-io ]; then bench/nested-io --build $(O); fi
	@if [ -x bench/nested-boot ]; then bench/nested-boot --build $(O) \
		--firmware tests/fixtures/measure/firmware/OVMF-2022.11-6+deb12u2.fd; fi

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(O)

clean:
	rm -rf $(O)
