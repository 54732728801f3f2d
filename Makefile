# libmesos-core: one non-recursive Makefile.
#
#   make              library (lib/libmesos-core.so.1, lib/libmesos-core.a),
#                     daemons, examples and tests
#   make check        install missing Debian packages, build, run every test,
#                     then run the whole suite again under ASan + UBSan
#   make test         run the tests of the current build only
#   make bench        benchmarks (scripts print `bench: ...` lines)
#   make fuzz         run every libFuzzer target for a bounded time (clang)
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make demo         a local cluster with an example framework
#
# Sources are discovered by wildcard: every lib/<module>/*.c is part of the
# library, every lib/proto/*.proto is compiled with protoc-c, every
# tests/unit/<module>/test_*.c is one Check test program.

VERSION_MAJOR := 1
VERSION_MINOR := 0
VERSION_PATCH := 0
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX  ?= /usr/local
DESTDIR ?=

# O is the build directory for objects, generated sources and tests.
# LIBOUT is where the finished libraries land: lib/ for the normal build
# (as the README promises), inside O for the sanitizer build.
O      ?= build
LIBOUT ?= lib
SAN    ?=

# Quiet by default: one short line per step ("CC lib/base/buf.c").  V=1
# prints the full commands.
V ?= 0
ifeq ($(V),1)
Q :=
say =
else
Q := @
say = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

CC      ?= cc
CXX     ?= c++
PROTOC_C ?= protoc-c

LLHTTP_DIR     ?= /usr/share/llhttp
LLHTTP_INC     ?= /usr/share/include/llhttp

PKGS := libuv yajl libprotobuf-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
TLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
DEP_LIBS := $(PKG_LIBS) $(TLS_LIBS) -lz -lpthread -lm -lrt

OPT     ?= -O2
WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g $(OPT) -fPIC -fvisibility=hidden \
           -Iinclude -Ilib -I$(O)/gen -I$(O)/gen/proto -I$(LLHTTP_INC) $(PKG_CFLAGS) \
           -DMESOS_BUILDING_LIBRARY -DMESOS_MAKE_VERSION_MAJOR=$(VERSION_MAJOR) \
           -DMESOS_MAKE_VERSION_MINOR=$(VERSION_MINOR) -DMESOS_MAKE_VERSION_PATCH=$(VERSION_PATCH)
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
endif
CFLAGS_ALL := $(BASE_CFLAGS) $(WARN) $(SAN_FLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SAN_FLAGS) $(LDFLAGS)

# ---------------------------------------------------------------- sources
LIB_SRCS    := $(sort $(wildcard lib/*/*.c))
PROTOS      := $(sort $(wildcard lib/proto/*.proto lib/proto/*/*.proto lib/proto/*/*/*.proto))
PROTO_C     := $(patsubst lib/proto/%.proto,$(O)/gen/proto/%.pb-c.c,$(PROTOS))
PROTO_H     := $(PROTO_C:.c=.h)
# Every message and enum descriptor of lib/proto/, as one generated table
# (protoc-c emits no file descriptors to walk): see scripts/gen-proto-registry.sh.
PROTO_REGISTRY := $(O)/gen/proto/proto_registry.h
LLHTTP_SRCS := $(LLHTTP_DIR)/api.c $(LLHTTP_DIR)/http.c $(LLHTTP_DIR)/llhttp.c

LIB_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(LIB_SRCS)) \
            $(patsubst $(O)/gen/%.c,$(O)/obj/gen/%.o,$(PROTO_C)) \
            $(patsubst $(LLHTTP_DIR)/%.c,$(O)/obj/llhttp/%.o,$(LLHTTP_SRCS))

SONAME   := libmesos-core.so.$(VERSION_MAJOR)
SHLIB    := $(LIBOUT)/libmesos-core.so.$(VERSION)
STLIB    := $(LIBOUT)/libmesos-core.a
MAPFILE  := lib/libmesos-core.map

DAEMON_SRCS  := $(sort $(wildcard daemons/*.c))
DAEMONS      := $(patsubst daemons/%.c,$(O)/bin/%,$(DAEMON_SRCS))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLES     := $(patsubst examples/%.c,$(O)/examples/%,$(EXAMPLE_SRCS))

TEST_SRCS    := $(sort $(wildcard tests/unit/*/test_*.c tests/integration/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
TEST_SUPPORT_OBJS := $(patsubst %.c,$(O)/obj/%.o,$(TEST_SUPPORT))
TESTS        := $(patsubst %.c,$(O)/%,$(TEST_SRCS))

FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_DRIVERS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%-replay,$(FUZZ_SRCS))

BENCH_SRCS   := $(sort $(wildcard tests/bench/*.c))
BENCHES      := $(patsubst tests/bench/%.c,$(O)/bench/%,$(BENCH_SRCS))

.PHONY: all lib daemons examples tests check test test-san deps clean install \
        bench fuzz fuzz-smoke demo abi-dump print-%
.DELETE_ON_ERROR:
.SECONDARY:

all: lib daemons examples tests $(FUZZ_DRIVERS) $(BENCHES)

lib: $(SHLIB) $(STLIB)

# ---------------------------------------------------------------- compile
# Every object depends on the generated protobuf headers, so a fresh build
# never compiles a module before protoc-c has run.
$(O)/obj/lib/%.o: lib/%.c $(PROTO_H) | $(O)/.dirs
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# A .proto's generated code names the descriptors of the files it imports,
# so every file is regenerated when any of them changes.
$(O)/gen/proto/%.pb-c.c $(O)/gen/proto/%.pb-c.h: lib/proto/%.proto $(PROTOS)
	@mkdir -p $(O)/gen/proto
	$(call say,PROTOC,$<)$(PROTOC_C) --proto_path=lib/proto --c_out=$(O)/gen/proto $<

$(PROTO_REGISTRY): $(PROTO_H) scripts/gen-proto-registry.sh
	scripts/gen-proto-registry.sh $(O)/gen/proto $(PROTO_H) > $@.tmp && mv $@.tmp $@

$(O)/obj/lib/codec/registry.o: $(PROTO_REGISTRY)

$(O)/obj/gen/%.o: $(O)/gen/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -w -c $< -o $@

# llhttp is compiled from the sources Debian's node-llhttp installs; it is
# not our code, so our warning set does not apply to it.
$(O)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -w -c $< -o $@

$(O)/.dirs:
	@mkdir -p $(O)/obj $(O)/gen $(O)/bin $(O)/examples $(LIBOUT)
	@touch $@

# ---------------------------------------------------------------- link
# The newest node of the version script must name this release: a release
# whose map was not updated fails the build (libbpf does the same).
$(O)/map.ok: $(MAPFILE) Makefile
	@last=$$(grep -o '^MESOS_[0-9.]*' $(MAPFILE) | tail -1); \
	 if [ "$$last" != "MESOS_$(VERSION_MAJOR).$(VERSION_MINOR)" ]; then \
	   echo "error: newest node in $(MAPFILE) is $$last, release is $(VERSION_MAJOR).$(VERSION_MINOR)"; exit 1; fi
	@mkdir -p $(O) && touch $@

$(SHLIB): $(LIB_OBJS) $(MAPFILE) $(O)/map.ok
	@mkdir -p $(LIBOUT)
	$(call say,LINK,$@)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(MAPFILE) \
	  -Wl,--no-undefined -Wl,-z,defs -Wl,-z,relro -Wl,-z,now \
	  $(LDFLAGS_ALL) -o $@ $(LIB_OBJS) $(DEP_LIBS)
	$(Q)ln -sf libmesos-core.so.$(VERSION) $(LIBOUT)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(LIBOUT)/libmesos-core.so

$(STLIB): $(LIB_OBJS)
	@mkdir -p $(LIBOUT)
	$(Q)rm -f $@
	$(call say,AR,$@)ar rcs $@ $(LIB_OBJS)

# Daemons and examples link the shared library, as users' programs do.
# The main() parts the daemons share (daemons/common/, public API only) are
# one object linked into each, not part of the library.
DAEMON_COMMON := $(O)/obj/daemons/common/daemon.o
$(DAEMON_COMMON): daemons/common/daemon.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(O)/bin/%: daemons/%.c $(DAEMON_COMMON) $(SHLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_ALL) -MMD -MP -Idaemons $< $(DAEMON_COMMON) -o $@ $(LDFLAGS_ALL) \
	  -L$(LIBOUT) -lmesos-core -Wl,-rpath,$(abspath $(LIBOUT)) $(DEP_LIBS)

# mesos-executor starts once per command task, so its start-up is part of
# every launch: linked statically (libmesos-core.a and the static Debian
# libraries) it skips the dynamic loader's relocations, most of its own CPU
# time per task (tests/bench/bench_task_launch.c).  Sanitizer builds, and
# hosts without the static libraries, link it like the other daemons.  (The
# linker warns that libuv's getaddrinfo/getpwuid_r need glibc's NSS modules
# at run time: the executor only resolves the numeric MESOS_AGENT_ENDPOINT.)
EXEC_STATIC_LIBS := $(foreach l,libuv_a.a libyajl_s.a libprotobuf-c.a libmbedtls.a libmbedx509.a \
                      libmbedcrypto.a libz.a,$(shell $(CC) -print-file-name=$(l) 2>/dev/null))
ifneq ($(SAN),1)
ifeq ($(filter-out /%,$(EXEC_STATIC_LIBS)),)
$(O)/bin/mesos-executor: daemons/mesos-executor.c $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_ALL) -MMD -MP $< -o $@ $(LDFLAGS_ALL) -static $(STLIB) \
	  $(EXEC_STATIC_LIBS) -lpthread -lm -lrt
endif
endif

# mesos-container-init is every container's first process (see
# lib/containerizer/init_plan.h): a small static program without a C
# library (raw system calls; glibc's start-up was most of its CPU), so its
# exec does no loading or start-up work, and never sanitized (it has no
# runtime to carry ASan's; it makes no allocation worth checking).
$(O)/bin/mesos-container-init: daemons/mesos-container-init.c lib/containerizer/init_plan.h
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(filter-out -fPIC,$(BASE_CFLAGS)) $(WARN) $(CFLAGS) -ffreestanding \
	  -fno-stack-protector -fno-builtin -fno-tree-loop-distribute-patterns -fno-pie -no-pie \
	  -nostdlib -static $< -o $@

# mesos-default-executor fetches its tasks' CommandInfo URIs with the
# library's internal fetcher (lib/provisioner/fetcher.h), which the shared
# library does not export: it links the static one, as the tests do.
$(O)/bin/mesos-default-executor: daemons/mesos-default-executor.c $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_ALL) -MMD -MP $< -o $@ $(LDFLAGS_ALL) $(STLIB) $(DEP_LIBS)

$(O)/examples/%: examples/%.c $(SHLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_ALL) -MMD -MP $< -o $@ $(LDFLAGS_ALL) -L$(LIBOUT) -lmesos-core \
	  -Wl,-rpath,$(abspath $(LIBOUT)) $(DEP_LIBS)

# ---------------------------------------------------------------- tests
# Tests link the static library so they can reach internal (mesos__) code.
$(O)/obj/tests/%.o: tests/%.c $(PROTO_H) $(PROTO_REGISTRY) | $(O)/.dirs
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -Itests -MMD -MP -c $< -o $@

$(O)/tests/%: $(O)/obj/tests/%.o $(TEST_SUPPORT_OBJS) $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT_OBJS) $(STLIB) $(CHECK_LIBS) $(DEP_LIBS)

tests: $(TESTS) $(DAEMONS) $(EXAMPLES)

# The codec's unit tests also use a test-only .proto (every field type and
# label) from tests/data/codec/, compiled here and linked into them only.
CODEC_TEST_PB_H  := $(O)/gen/tests/codec/codec_test.pb-c.h
CODEC_TEST_PB_O  := $(O)/obj/gen/tests/codec/codec_test.pb-c.o
CODEC_TESTS      := $(filter $(O)/tests/unit/codec/%,$(TESTS))

# A pattern rule, so make knows one protoc-c run writes both files.
$(O)/gen/tests/codec/%.pb-c.c $(O)/gen/tests/codec/%.pb-c.h: tests/data/codec/%.proto
	@mkdir -p $(O)/gen/tests/codec
	$(PROTOC_C) --proto_path=tests/data/codec --c_out=$(O)/gen/tests/codec $<

$(patsubst $(O)/%,$(O)/obj/%.o,$(CODEC_TESTS)): $(CODEC_TEST_PB_H)

$(CODEC_TESTS): $(O)/tests/unit/codec/%: $(O)/obj/tests/unit/codec/%.o $(CODEC_TEST_PB_O) \
                $(TEST_SUPPORT_OBJS) $(STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(CODEC_TEST_PB_O) $(TEST_SUPPORT_OBJS) $(STLIB) \
	  $(CHECK_LIBS) $(DEP_LIBS)

# Fuzz targets: the same LLVMFuzzerTestOneInput is linked twice, once with a
# standalone driver that replays the corpus (part of `make test`), once with
# libFuzzer under clang (`make fuzz`).
$(O)/fuzz/%-replay: tests/fuzz/%.c tests/fuzz/standalone_driver.c $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_ALL) -Itests $< tests/fuzz/standalone_driver.c -o $@ \
	  $(LDFLAGS_ALL) $(STLIB) $(DEP_LIBS)

$(O)/bench/%: tests/bench/%.c $(STLIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)$(CC) $(CFLAGS_ALL) -Itests $< -o $@ $(LDFLAGS_ALL) $(STLIB) $(DEP_LIBS)

deps:
	@scripts/deps.sh

# `make check`: the README's one test command. Installs what is missing,
# builds, runs the suite, then builds again with sanitizers into build/san
# and runs the suite there too.
check: deps
	$(MAKE) all
	$(MAKE) test
	$(MAKE) O=build/san LIBOUT=build/san/lib SAN=1 OPT=-O1 all
	$(MAKE) O=build/san LIBOUT=build/san/lib SAN=1 OPT=-O1 test-run
	$(MAKE) fuzz-smoke
	scripts/summary.sh $(O)/test-results build/san/test-results

test: all
	$(MAKE) test-run

test-run:
	@O=$(O) LIBOUT=$(LIBOUT) SAN=$(SAN) CC=$(CC) scripts/run-tests.sh

bench: all
	@O=$(O) LIBOUT=$(LIBOUT) scripts/bench.sh

fuzz: deps
	@O=$(O) scripts/fuzz.sh

# A bounded libFuzzer run of every target, part of `make check`.
FUZZ_SMOKE_SECONDS ?= 20
fuzz-smoke:
	@O=$(O) FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) scripts/fuzz.sh

demo: all
	@O=$(O) scripts/demo.sh

# ---------------------------------------------------------------- install
install: lib
	install -d $(DESTDIR)$(PREFIX)/include/mesos $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	install -m 644 include/mesos/*.h $(DESTDIR)$(PREFIX)/include/mesos/
	if [ -d include/mesos/sys ]; then install -d $(DESTDIR)$(PREFIX)/include/mesos/sys && \
	  install -m 644 include/mesos/sys/*.h $(DESTDIR)$(PREFIX)/include/mesos/sys/; fi
	install -m 755 $(SHLIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libmesos-core.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libmesos-core.so
	install -m 644 $(STLIB) $(DESTDIR)$(PREFIX)/lib/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	  pkgconfig/libmesos-core.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libmesos-core.pc
	for f in man/*.3; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man3/; done; true
	scripts/install-man-aliases.sh $(DESTDIR)$(PREFIX)/share/man/man3 $(wildcard man/*.3)
	for f in man/*.8; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man8/; done; true
	for d in $(DAEMONS); do [ -e "$$d" ] && install -m 755 $$d $(DESTDIR)$(PREFIX)/sbin/; done; true

# abidw baseline for the ABI check (tests/abi/abi.sh), committed with each
# release: the exported functions and the types they reach.  Paths, DT_NEEDED
# and sequential type ids are left out so the file changes only when the ABI
# does.  See README, "ABI".
abi-dump: lib
	@mkdir -p abi
	abidw --headers-dir include/mesos --no-corpus-path --no-comp-dir-path \
	  --short-locs --no-elf-needed --type-id-style hash --exported-interfaces-only \
	  --out-file abi/libmesos-core.abi $(SHLIB)

clean:
	rm -rf build lib/libmesos-core.so* lib/libmesos-core.a

print-%:
	@echo '$($*)'

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
