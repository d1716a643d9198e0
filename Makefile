# dlrepo: artifact repository daemon.
#   make run     build if needed, run the daemon on ./var/root, port 1337
#   make check   the whole test suite

MVN ?= mvn -B -q
JAR = target/dlrepo.jar
SOURCES = pom.xml $(shell find src/main -type f 2>/dev/null)
ROOT ?= $(CURDIR)/var/root
PORT ?= 1337

.PHONY: all jar run check clean

all: jar

jar: $(JAR)

$(JAR): $(SOURCES)
	$(MVN) package -DskipTests
	@touch $@

run: $(JAR)
	@mkdir -p $(ROOT)
	@echo "dlrepo: serving $(ROOT) on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	DLREPO_ROOT_DIR=$(ROOT) DLREPO_LISTEN_PORT=$(PORT) DLREPO_AUTH_DISABLED=1 \
	DLREPO_LOG_LEVEL=$${DLREPO_LOG_LEVEL:-INFO} DLREPO_LOG_OUTPUT=console \
	java -Xmx512m -jar $(JAR)

check:
	$(MVN) verify

clean:
	$(MVN) clean
