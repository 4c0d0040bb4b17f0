"""Java chaincode on the local runtime, without Fabric.

detect() takes a Maven project (pom.xml naming fabric-chaincode-shim) and a Gradle one only when
Gradle runs here without a download (a ``gradle`` on PATH, or a committed wrapper whose
distribution is cached), refusing the rest saying why. prepare() runs a real
``mvn -q -B -DskipTests package`` of examples/chaincode/asset-transfer-java (cached: a second
prepare runs nothing), a compiler error surfaces as a UsageError with Maven's own ``[ERROR]``
line, and server_command() starts the shaded jar as a chaincode server that listens.

The Maven tests skip, saying why, where ``mvn``/``java`` are missing or Maven cannot download
the shim from Maven Central.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from baas.errors import OperationError, UsageError
from baas.runtimes.local import chaincode
from baas.runtimes.local.chaincode import (
    CONTRACT_ROUTER,
    JavaLaunch,
    PreparedChaincode,
    ServerTLS,
    detect,
    java_build_excerpt,
    prepare,
    server_command,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "chaincode"
JAVA_EXAMPLE = EXAMPLES / "asset-transfer-java"
CONTRACT = Path("src/main/java/org/example/baas/assettransfer/AssetTransfer.java")
PACKAGE_ID = "basic_1.0:" + "ab" * 32
SHIM_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>g</groupId><artifactId>{name}</artifactId><version>1</version>
  <dependencies><dependency>
    <groupId>org.hyperledger.fabric-chaincode-java</groupId>
    <artifactId>fabric-chaincode-shim</artifactId><version>{version}</version>
  </dependency></dependencies>
</project>
"""
GRADLE_BUILD = (
    "dependencies { implementation "
    "'org.hyperledger.fabric-chaincode-java:fabric-chaincode-shim:2.5.10' }\n"
)

needs_maven = pytest.mark.skipif(
    shutil.which("mvn") is None or shutil.which("java") is None,
    reason="needs mvn and java on PATH (and Maven Central for the first build)",
)


def copy_example(target: Path) -> Path:
    """The example's files (no build output) in ``target``."""
    shutil.copytree(JAVA_EXAMPLE, target, ignore=shutil.ignore_patterns("target"))
    return target


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("java-cache")


@pytest.fixture(scope="module")
def built(cache: Path) -> tuple[PreparedChaincode, list[str]]:
    """The example built once for the module, or a skip saying why Maven could not."""
    if shutil.which("mvn") is None or shutil.which("java") is None:
        pytest.skip("needs mvn and java on PATH")
    lines: list[str] = []
    try:
        prepared = prepare(detect(JAVA_EXAMPLE), cache_dir=cache, report=lines.append)
    except OperationError as exc:
        pytest.skip(f"Maven cannot build the Java example here: {exc.message}")
    return prepared, lines


# --- detect: Maven ----------------------------------------------------------------------------


def test_detect_sees_the_maven_example() -> None:
    source = detect(JAVA_EXAMPLE)
    assert (source.language, source.builder, source.lockfile) == ("java", "maven", None)
    assert source.name == "asset-transfer-java"
    assert source.manifest == JAVA_EXAMPLE / "pom.xml"
    assert source.build == "mvn -q -B -Dstyle.color=never -DskipTests package"


def test_detect_refuses_a_pom_without_the_shim(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_text(
        SHIM_POM.format(name="cc", version="1").replace("fabric-chaincode-shim", "guava")
    )
    with pytest.raises(UsageError) as caught:
        detect(tmp_path)
    assert "does not depend on fabric-chaincode-shim" in caught.value.message
    assert "org.hyperledger.fabric-chaincode-java" in caught.value.hint


@pytest.mark.parametrize("text", ["", "<project><artifactId>x</project>"])
def test_detect_refuses_a_pom_that_is_not_xml(tmp_path: Path, text: str) -> None:
    (tmp_path / "pom.xml").write_text(text)
    with pytest.raises(UsageError) as caught:
        detect(tmp_path)
    assert f"cannot read {tmp_path / 'pom.xml'}" in caught.value.message
    assert "not well-formed XML" in caught.value.message


def test_package_json_wins_over_pom_and_pom_over_gradle(tmp_path: Path) -> None:
    (tmp_path / "pom.xml").write_text(SHIM_POM.format(name="cc", version="2.5.10"))
    (tmp_path / "build.gradle").write_text(GRADLE_BUILD)
    assert detect(tmp_path).builder == "maven"
    (tmp_path / "package.json").write_text('{"main": "index.js"}')
    with pytest.raises(UsageError, match="does not depend on fabric-shim"):
        detect(tmp_path)


# --- detect: Gradle ---------------------------------------------------------------------------


@pytest.fixture
def no_gradle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH without gradle and an empty Gradle user home; returns that home."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    if shutil.which("gradle", path="/usr/bin:/bin") is not None:
        pytest.skip("gradle is installed in /usr/bin or /bin: cannot test its absence")
    home = tmp_path / "gradle-home"
    monkeypatch.setenv("GRADLE_USER_HOME", str(home))
    return home


def gradle_project(folder: Path, *, wrapper: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build.gradle").write_text(GRADLE_BUILD)
    if wrapper is not None:
        (folder / "gradlew").write_text("#!/bin/sh\n")
        properties = folder / "gradle" / "wrapper" / "gradle-wrapper.properties"
        properties.parent.mkdir(parents=True)
        properties.write_text(
            f"distributionUrl=https\\://gradle.example/distributions/{wrapper}.zip\n"
        )
    return folder


def cache_distribution(home: Path, distribution: str) -> None:
    """What the wrapper leaves in the Gradle user home once it unpacked ``distribution``."""
    folder = home / "wrapper" / "dists" / distribution / "0123abc"
    gradle = folder / distribution.removesuffix("-bin").removesuffix("-all") / "bin" / "gradle"
    gradle.parent.mkdir(parents=True)
    gradle.write_text("#!/bin/sh\n")
    (folder / f"{distribution}.zip.ok").write_text("")


def test_gradle_without_gradle_or_wrapper_is_refused_saying_what_to_add(
    tmp_path: Path, no_gradle: Path
) -> None:
    folder = gradle_project(tmp_path / "cc")
    with pytest.raises(UsageError) as caught:
        detect(folder)
    message, hint = caught.value.message, caught.value.hint
    assert f"{folder} is a Gradle project (build.gradle)" in message
    assert "no `gradle` on PATH and no committed wrapper (gradlew)" in message
    assert "baas does not download Gradle distributions during a build" in message
    assert "pom.xml" in hint and "wrapper" in hint


def test_a_wrapper_whose_distribution_is_not_cached_is_refused(
    tmp_path: Path, no_gradle: Path
) -> None:
    folder = gradle_project(tmp_path / "cc", wrapper="gradle-8.5-bin")
    with pytest.raises(UsageError) as caught:
        detect(folder)
    message = caught.value.message
    assert "wrapper wants gradle-8.5-bin, which is not in" in message
    assert str(no_gradle / "wrapper" / "dists") in message
    assert "baas does not download Gradle distributions during a build" in message
    assert "pom.xml" in caught.value.hint


def test_a_wrapper_with_a_cached_distribution_is_used(tmp_path: Path, no_gradle: Path) -> None:
    folder = gradle_project(tmp_path / "cc", wrapper="gradle-8.5-bin")
    cache_distribution(no_gradle, "gradle-8.5-bin")
    source = detect(folder)
    assert (source.language, source.builder) == ("java", "gradlew")
    assert source.build is not None and source.build.startswith("./gradlew ")


def test_a_gradle_on_path_is_used_without_a_wrapper(tmp_path: Path, no_gradle: Path) -> None:
    gradle = tmp_path / "bin" / "gradle"
    gradle.write_text("#!/bin/sh\n")
    gradle.chmod(0o755)
    source = detect(gradle_project(tmp_path / "cc"))
    assert source.builder == "gradle"


def test_a_gradle_build_without_the_shim_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cc"
    folder.mkdir()
    (folder / "build.gradle.kts").write_text("plugins { java }\n")
    with pytest.raises(UsageError, match="does not depend on fabric-chaincode-shim"):
        detect(folder)


# --- prepare: a real Maven build --------------------------------------------------------------


@needs_maven
def test_prepare_builds_the_example_into_a_runnable_jar(
    built: tuple[PreparedChaincode, list[str]], cache: Path
) -> None:
    prepared, lines = built
    assert prepared.built and prepared.installed
    assert prepared.root == cache / "java" / prepared.digest
    assert prepared.launch == JavaLaunch(("target/asset-transfer.jar",))
    jar = prepared.root / "target" / "asset-transfer.jar"
    assert prepared.modules == jar.parent
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode()
        names = set(archive.namelist())
    assert f"Main-Class: {CONTRACT_ROUTER}" in manifest
    assert "org/example/baas/assettransfer/AssetTransfer.class" in names
    assert "org/hyperledger/fabric/contract/ContractRouter.class" in names
    assert any("building (mvn -q -B" in line for line in lines)
    assert not list((cache / "java").glob(".tmp-*"))


@needs_maven
def test_a_second_prepare_runs_nothing(
    built: tuple[PreparedChaincode, list[str]], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = built

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a cached prepare ran {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    lines: list[str] = []
    again = prepare(detect(JAVA_EXAMPLE), cache_dir=cache, report=lines.append)
    assert (again.root, again.built, again.launch) == (first.root, False, first.launch)
    assert any("build skipped" in line for line in lines)


@needs_maven
def test_build_output_in_the_folder_does_not_change_the_digest(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    first, _ = built
    folder = copy_example(tmp_path / "cc")
    (folder / "target").mkdir()
    (folder / "target" / "stale.jar").write_bytes(b"not a jar")
    assert prepare(detect(folder), cache_dir=cache).root == first.root


@needs_maven
def test_a_compiler_error_fails_with_mavens_error_lines(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    folder = copy_example(tmp_path / "broken")
    contract = folder / CONTRACT
    text = contract.read_text()
    assert "return asset.owner;" in text
    contract.write_text(text.replace("return asset.owner;", "return asset.size;"))
    before = sorted(p.name for p in (cache / "java").iterdir())
    with pytest.raises(UsageError) as caught:
        prepare(detect(folder), cache_dir=cache)
    message = caught.value.message
    assert message.startswith(f"chaincode folder {folder}: `mvn -q -B ")
    assert "failed (exit 1)" in message
    assert f"[ERROR] {folder / CONTRACT}:[" in message
    assert "incompatible types: long cannot be converted to java.lang.String" in message
    assert ".tmp-" not in message and "\x1b[" not in message
    assert "Re-run Maven" not in message
    assert sorted(p.name for p in (cache / "java").iterdir()) == before


@needs_maven
def test_a_shim_maven_cannot_find_is_an_operation_error(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    (tmp_path / "pom.xml").write_text(SHIM_POM.format(name="cc", version="0.0.0-nowhere"))
    with pytest.raises(OperationError) as caught:
        prepare(detect(tmp_path), cache_dir=cache)
    assert "fabric-chaincode-shim" in caught.value.message
    assert "Maven Central is reachable" in caught.value.hint


@needs_maven
def test_a_plain_jar_runs_with_its_dependencies_copied(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    """Without the shade plugin the build leaves a jar of the contract only: its runtime
    dependencies are copied next to it and the shim's ContractRouter is the main class."""
    folder = copy_example(tmp_path / "plain")
    pom = folder / "pom.xml"
    text = pom.read_text()
    start = text.index(
        "      <plugin>\n        <groupId>org.apache.maven.plugins</groupId>\n"
        "        <artifactId>maven-shade-plugin"
    )
    end = text.index("</plugin>", start) + len("</plugin>")
    pom.write_text(text[:start] + text[end:])
    try:
        prepared = prepare(detect(folder), cache_dir=cache)
    except OperationError as exc:
        pytest.skip(f"Maven cannot fetch maven-dependency-plugin here: {exc.message}")
    assert prepared.launch == JavaLaunch(
        ("target/asset-transfer.jar", "target/baas-lib/*"), CONTRACT_ROUTER
    )
    libs = [p.name for p in (prepared.root / "target" / "baas-lib").iterdir()]
    assert any(name.startswith("fabric-chaincode-shim-2.5.") for name in libs)
    command = server_command(prepared, package_id=PACKAGE_ID, address="127.0.0.1:9999")
    assert command.argv[1:] == (
        "-cp",
        f"{prepared.root}/target/asset-transfer.jar:{prepared.root}/target/baas-lib/*",
        CONTRACT_ROUTER,
    )


def test_a_gradle_build_serves_the_jar_it_leaves_in_build_libs(
    tmp_path: Path, no_gradle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wrapper path end to end with a stand-in gradlew (no Gradle here): it runs in the
    copy of the project with the Gradle arguments, and its self-contained jar is served."""
    folder = gradle_project(tmp_path / "cc", wrapper="gradle-8.5-bin")
    cache_distribution(no_gradle, "gradle-8.5-bin")
    jar = tmp_path / "app.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("org/hyperledger/fabric/contract/ContractRouter.class", b"")
    (folder / "gradlew").write_text(
        '#!/bin/sh\necho "$@" > args.txt\nmkdir -p build/libs\n'
        'cp "$FAKE_JAR" build/libs/cc-all.jar\ncp "$FAKE_JAR" build/libs/cc-sources.jar\n'
    )
    monkeypatch.setenv("FAKE_JAR", str(jar))
    prepared = prepare(detect(folder), cache_dir=tmp_path / "cache")
    assert prepared.launch == JavaLaunch(("build/libs/cc-all.jar",), CONTRACT_ROUTER)
    assert (prepared.root / "args.txt").read_text().split() == list(chaincode.GRADLE_ARGS)


def test_a_gradle_build_without_a_self_contained_jar_says_to_shade_it(
    tmp_path: Path, no_gradle: Path
) -> None:
    folder = gradle_project(tmp_path / "cc", wrapper="gradle-8.5-bin")
    cache_distribution(no_gradle, "gradle-8.5-bin")
    (folder / "gradlew").write_text("#!/bin/sh\nmkdir -p build/libs\necho x > build/libs/cc.jar\n")
    with pytest.raises(UsageError) as caught:
        prepare(detect(folder), cache_dir=tmp_path / "cache")
    assert "left cc.jar in build/libs/" in caught.value.message
    assert "shadow plugin" in caught.value.hint


def test_a_failing_gradle_build_shows_its_own_output(tmp_path: Path, no_gradle: Path) -> None:
    folder = gradle_project(tmp_path / "cc", wrapper="gradle-8.5-bin")
    cache_distribution(no_gradle, "gradle-8.5-bin")
    (folder / "gradlew").write_text(
        "#!/bin/sh\necho \"$(pwd)/src/A.java:3: error: ';' expected\"\necho FAILURE\nexit 1\n"
    )
    with pytest.raises(UsageError) as caught:
        prepare(detect(folder), cache_dir=tmp_path / "cache")
    assert f"{folder}/src/A.java:3: error: ';' expected" in caught.value.message


# --- server_command ---------------------------------------------------------------------------


@needs_maven
def test_server_command_runs_the_jar_with_the_address_and_id_in_its_environment(
    built: tuple[PreparedChaincode, list[str]],
) -> None:
    prepared, _ = built
    command = server_command(prepared, package_id=PACKAGE_ID, address="127.0.0.1:9999")
    assert Path(command.argv[0]).name == "java"
    assert command.argv[1:] == ("-jar", str(prepared.root / "target" / "asset-transfer.jar"))
    assert command.env == {
        "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:9999",
        "CORE_CHAINCODE_ID_NAME": PACKAGE_ID,
        "CHAINCODE_ID": PACKAGE_ID,
    }
    assert command.cwd == prepared.root


def fake_java_prepared(tmp_path: Path) -> PreparedChaincode:
    jar = tmp_path / "target" / "cc.jar"
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"PK")
    source = chaincode.ChaincodeSource(
        path=tmp_path, name="cc", manifest=tmp_path / "pom.xml", lockfile=None, language="java"
    )
    return PreparedChaincode(
        source=source,
        root=tmp_path,
        modules=jar.parent,
        digest="d",
        source_digest="d",
        installed=False,
        launch=JavaLaunch(("target/cc.jar",)),
    )


def pem(path: Path, label: str) -> Path:
    path.write_text(f"-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n")
    return path


def test_server_command_gives_the_java_shim_its_tls_variables(tmp_path: Path) -> None:
    prepared = fake_java_prepared(tmp_path)
    key, cert = pem(tmp_path / "k.pem", "PRIVATE KEY"), pem(tmp_path / "c.pem", "CERTIFICATE")
    command = server_command(
        prepared,
        package_id=PACKAGE_ID,
        address="127.0.0.1:9999",
        tls=ServerTLS(key_file=key, cert_file=cert),
    )
    assert command.env["CORE_PEER_TLS_ENABLED"] == "true"
    assert command.env["CORE_TLS_CLIENT_KEY_FILE"] == str(key)
    assert command.env["CORE_TLS_CLIENT_CERT_FILE"] == str(cert)
    with pytest.raises(UsageError, match="cannot require client certificates"):
        server_command(
            prepared,
            package_id=PACKAGE_ID,
            address="127.0.0.1:9999",
            tls=ServerTLS(key_file=key, cert_file=cert, client_ca_file=cert),
        )


def test_server_command_says_when_the_built_jar_is_gone(tmp_path: Path) -> None:
    prepared = fake_java_prepared(tmp_path)
    (tmp_path / "target" / "cc.jar").unlink()
    with pytest.raises(OperationError, match=r"jar .* is missing"):
        server_command(prepared, package_id=PACKAGE_ID, address="127.0.0.1:9999")


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    yield port


@needs_maven
def test_the_built_jar_listens_as_a_chaincode_server(
    built: tuple[PreparedChaincode, list[str]], free_port: int, tmp_path: Path
) -> None:
    prepared, _ = built
    address = f"127.0.0.1:{free_port}"
    command = server_command(prepared, package_id=PACKAGE_ID, address=address)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command.argv, env=command.env, cwd=command.cwd, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120  # a bound on the wait, not a performance claim
        while True:
            assert server.poll() is None, log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", free_port), timeout=1.0):
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "Found class: org.example.baas.assettransfer.AssetTransfer" in text
    assert "Starting chaincode as server" in text


# --- java_build_excerpt -----------------------------------------------------------------------


def test_java_build_excerpt_keeps_mavens_errors_once_without_its_advice() -> None:
    staging, source = Path("/cache/java/.tmp-abc"), Path("/src/cc")
    line = f"[ERROR] {staging}/src/main/java/A.java:[9,21] incompatible types"
    output = "\n".join(
        [
            "\x1b[0m\x1b[0m[ERROR] COMPILATION ERROR : ",
            line,
            "[ERROR] Failed to execute goal …: Compilation failure",
            line,
            "[ERROR] -> [Help 1]",
            "[ERROR] ",
            "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
            "[ERROR] Re-run Maven using the -X switch to enable full debug logging.",
            "[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/MojoFailureException",
        ]
    )
    assert java_build_excerpt(output, staging=staging, source=source).splitlines() == [
        "[ERROR] COMPILATION ERROR :",
        "[ERROR] /src/cc/src/main/java/A.java:[9,21] incompatible types",
        "[ERROR] Failed to execute goal …: Compilation failure",
    ]


def test_java_build_excerpt_without_maven_errors_cuts_like_build_excerpt() -> None:
    output = "\n".join(["> Task :compileJava", "A.java:3: error: ';' expected", "FAILURE"])
    excerpt = java_build_excerpt(output, staging=Path("/s"), source=Path("/c"))
    assert excerpt.splitlines()[0] == "A.java:3: error: ';' expected"
