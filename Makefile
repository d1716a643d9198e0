# dlrepo: artifact repository daemon.
#   make run       build if needed, run the daemon on ./var/root, port 1337
#                  (make run PORT=8080 ROOT=$HOME/dlrepo-try: another port, root folder)
#   make check     the whole test suite
#   make readme-check  run the README's commands against a make run of its own
#   make conformance   the OCI conformance suite against a "make run" already listening on PORT
#   make           the jar, the man pages and the class list of the launcher
#   make install   DESTDIR=... PREFIX=/usr (default PREFIX: /usr/local)
#   make deb       the Debian package, in target/deb/ (dpkg-buildpackage -b)

MVN ?= mvn -B -q
JAR = target/dlrepo.jar
CLASSLIST = target/dlrepo.classlist
# class-data sharing archive of "make run", for the java on PATH (optional)
JSA = target/dlrepo.jsa
JAVA_BIN := $(shell readlink -f "$$(command -v java)" 2>/dev/null)
# Small footprint, same throughput (docs/performance.md, "Footprint"): SerialGC, a
# small initial heap (it grows under load), two malloc arenas.
RUN_JAVA_OPTS = -Xmx512m -Xms8m -XX:+UseSerialGC
SOURCES = pom.xml $(shell find src/main -type f 2>/dev/null) $(wildcard dlrepo-cli)
ROOT ?= $(CURDIR)/var/root
PORT ?= 1337
SCDOC ?= scdoc
MANPAGES = $(patsubst %.scdoc,%,$(wildcard docs/*.scdoc))

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
SHAREDIR = $(PREFIX)/share/dlrepo
MANDIR = $(PREFIX)/share/man
DOCDIR = $(PREFIX)/share/doc/dlrepo
SYSTEMDUNITDIR ?= /lib/systemd/system
SYSCONFDIR ?= /etc

.PHONY: all jar man run check readme-check conformance install deb clean

all: jar man $(CLASSLIST)

jar: $(JAR)

$(JAR): $(SOURCES)
	$(MVN) package -DskipTests
	@touch $@

man: $(MANPAGES)

docs/%: docs/%.scdoc
	$(SCDOC) < $< > $@.tmp
	@mv $@.tmp $@

# classes loaded by a short run of the daemon, for the launcher's AppCDS archive
$(CLASSLIST): $(JAR) bin/make-classlist
	sh bin/make-classlist $(JAR) $@

# The archive of "make run" (classes of $(CLASSLIST) dumped for this JVM): starts
# sooner. Remade when the jar or the JVM changes; a stale one is ignored by the JVM
# (never -Xshare:on), and "make run" starts without it when it cannot be made.
$(JSA): $(CLASSLIST) $(JAVA_BIN)
	@rm -f $@
	java -Xshare:dump -XX:SharedClassListFile=$(CLASSLIST) -XX:SharedArchiveFile=$@.tmp \
		-cp $(JAR) >$@.log 2>&1 || { cat $@.log >&2; rm -f $@.tmp; exit 1; }
	@rm -f $@.log
	@mv $@.tmp $@

run: $(JAR)
	@$(MAKE) --no-print-directory $(JSA) >/dev/null 2>&1 || \
		echo "dlrepo: no class-data sharing archive ($(MAKE) $(JSA) to see why): starting without it"
	@mkdir -p "$(ROOT)"
	@echo "dlrepo: serving $(ROOT) on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	LC_ALL=C.UTF-8 DLREPO_ROOT_DIR="$(ROOT)" DLREPO_LISTEN_PORT=$(PORT) DLREPO_AUTH_DISABLED=1 \
	DLREPO_LOG_LEVEL=$${DLREPO_LOG_LEVEL:-INFO} DLREPO_LOG_OUTPUT=console \
	MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} \
	java $(RUN_JAVA_OPTS) $$([ -f $(JSA) ] && echo -XX:SharedArchiveFile=$(JSA)) -jar $(JAR)

check:
	$(MVN) verify

# every "$ " line of README.md, in order, against "make run" on a free port
readme-check:
	sh tests/readme-check.sh

# The official OCI distribution-spec conformance suite (a ready binary outside the
# tree, ../shared/tools/oci-conformance/; OciConformanceSuiteTest runs it in "make
# check") against the "make run" listening on PORT (auth disabled, so a mount without
# ?from= succeeds: OCI_AUTOMATIC_CROSSMOUNT=1). Results stay in a temporary folder.
OCI_CONFORMANCE ?= $(firstword $(OCI_CONFORMANCE_SUITE) \
	$(wildcard ../shared/tools/oci-conformance/run.sh ../../shared/tools/oci-conformance/run.sh))
conformance:
	@[ -n "$(OCI_CONFORMANCE)" ] || { echo "no ../shared/tools/oci-conformance/run.sh: set OCI_CONFORMANCE=<path of run.sh>" >&2; exit 1; }
	OCI_AUTOMATIC_CROSSMOUNT=1 bash $(OCI_CONFORMANCE) http://127.0.0.1:$(PORT) conf/job1 conf/job2

# Installs what "make" builds.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/default
	install -m 0644 $(JAR) $(DESTDIR)$(SHAREDIR)/dlrepo.jar
	if [ -f $(CLASSLIST) ]; then install -m 0644 $(CLASSLIST) $(DESTDIR)$(SHAREDIR)/dlrepo.classlist; fi
	sed 's|/usr/share/dlrepo|$(SHAREDIR)|g' bin/dlrepo > $(DESTDIR)$(BINDIR)/dlrepo
	chmod 0755 $(DESTDIR)$(BINDIR)/dlrepo
	if [ -f dlrepo-cli ]; then \
		install -m 0755 dlrepo-cli $(DESTDIR)$(BINDIR)/dlrepo-cli && \
		ln -sf ../../bin/dlrepo-cli $(DESTDIR)$(SHAREDIR)/dlrepo-cli; \
	fi
	sed 's|^ExecStart=/usr/bin/dlrepo|ExecStart=$(BINDIR)/dlrepo|' etc/dlrepo.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/dlrepo.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/dlrepo.service
	install -m 0644 etc/dlrepo.socket $(DESTDIR)$(SYSTEMDUNITDIR)/dlrepo.socket
	install -m 0644 etc/default $(DESTDIR)$(SYSCONFDIR)/default/dlrepo
	for page in $(MANPAGES); do \
		section=$${page##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$section && \
		install -m 0644 $$page $(DESTDIR)$(MANDIR)/man$$section/ || exit 1; \
	done
	install -m 0644 etc/nginx.conf $(DESTDIR)$(DOCDIR)/examples/nginx.conf
	install -m 0644 etc/nginx-replicas.conf $(DESTDIR)$(DOCDIR)/examples/nginx-replicas.conf
	install -m 0644 etc/dlrepo-replica.conf $(DESTDIR)$(DOCDIR)/examples/dlrepo-replica.conf
	install -d $(DESTDIR)$(DOCDIR)/examples/grafana $(DESTDIR)$(DOCDIR)/examples/prometheus
	install -m 0644 etc/grafana/dlrepo.json $(DESTDIR)$(DOCDIR)/examples/grafana/dlrepo.json
	install -m 0644 etc/prometheus/dlrepo-alerts.yml $(DESTDIR)$(DOCDIR)/examples/prometheus/dlrepo-alerts.yml
	if [ -d etc/acls-examples ]; then \
		cp -R etc/acls-examples $(DESTDIR)$(DOCDIR)/examples/acls && \
		chmod -R u=rwX,go=rX $(DESTDIR)$(DOCDIR)/examples/acls; \
	fi

# The package is built from a copy of the tree in target/deb/, so that neither
# this tree's target/ nor the parent folder is touched; the .deb, .buildinfo
# and .changes land in target/deb/.
DEBVERSION = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
deb:
	rm -rf target/deb
	mkdir -p target/deb/dlrepo-$(DEBVERSION)
	tar -c --exclude=./target --exclude=./var --exclude=./.git --exclude=./bench/out \
		--exclude=./debian/dlrepo --exclude=./debian/.debhelper . \
		| tar -x -C target/deb/dlrepo-$(DEBVERSION)
	cd target/deb/dlrepo-$(DEBVERSION) && dpkg-buildpackage -b -us -uc
	rm -rf target/deb/dlrepo-$(DEBVERSION)
	@ls target/deb/*.deb

clean:
	$(MVN) clean
	rm -f docs/*.[1-8] docs/*.tmp
