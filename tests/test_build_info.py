"""jitcore.show_config (jitcore.build_info): what the issue asks it to report."""

import jitcore


def test_the_report_covers_version_build_isa_openmp_blas_and_threads(capsys):
    config = jitcore.show_config(mode="dicts")
    assert config["build"]["jitcore"] and config["build"]["compiler"] and config["build"]["cython"]
    assert config["cpu"]["isa"] in ("baseline", "avx2", "avx512")
    threads = config["threads"]
    assert threads["num_threads"] == jitcore.get_num_threads()
    assert threads["blas"] and all(pool["num_threads"] >= 1 for pool in threads["blas"])
    if config["build"]["openmp"]:
        assert threads["openmp"] and threads["openmp"][0]["filepath"]
    jitcore.show_config()
    text = capsys.readouterr().out
    for line in ("jitcore:", "compiler:", "isa:", "num_threads:", "blas: "):
        assert line in text
    if config["build"]["openmp"]:
        assert "openmp: " in text and " threads, " in text
