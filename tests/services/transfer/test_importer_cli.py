"""Importing customer lists from the command line (flask crm import)."""

from crm.models import Customer
from tests.services.transfer.import_files import GOOD, HEADER, as_csv, as_xlsx, count


def test_cli_imports_all_or_nothing_and_says_why_when_it_refuses(
    world, runner, tmp_path, monkeypatch
):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    bad = tmp_path / "名单.csv"
    bad.write_bytes(
        as_csv([HEADER, GOOD[0], ["钱多多", "12345", "女", "", "", "", "", "", ""]], "gbk")
    )
    result = runner.invoke(args=["crm", "import", str(bad), "--as", "manager"])
    assert result.exit_code == 2 and count(Customer) == 3
    assert "line 3, 手机:" in result.output and "Nothing imported" in result.output

    good = tmp_path / "good.xlsx"
    good.write_bytes(as_xlsx([HEADER, *GOOD]))
    result = runner.invoke(args=["crm", "import", str(good), "--as", "manager"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 customers and 0 policies." in result.output and count(Customer) == 5


def test_cli_valid_only_writes_the_rejects_file(world, runner, tmp_path, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    source = tmp_path / "名单.csv"
    source.write_bytes(as_csv([HEADER, GOOD[0], ["钱多多", "12345", "女", "", "", "", "", "", ""]]))
    result = runner.invoke(args=["crm", "import", str(source), "--as", "manager", "--valid-only"])
    assert result.exit_code == 0, result.output
    rejects = tmp_path / "名单-rejects.csv"
    assert f"Rows not imported, with the reasons: {rejects}" in result.output
    assert "钱多多" in rejects.read_text(encoding="utf-8-sig") and count(Customer) == 4

    elsewhere = tmp_path / "out" / "fix-me.csv"
    elsewhere.parent.mkdir()
    source.write_bytes(as_csv([HEADER, ["钱多多", "12345", "女", "", "", "", "", "", ""]]))
    result = runner.invoke(
        args=["crm", "import", str(source), "--as", "manager", "--rejects", str(elsewhere)]
    )
    assert result.exit_code == 2 and "钱多多" in elsewhere.read_text(encoding="utf-8-sig")


def test_cli_refuses_staff_and_files_without_owners_when_run_as_the_system(
    world, runner, tmp_path, monkeypatch
):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the CLI speaks the shell's language
    source = tmp_path / "名单.csv"
    source.write_bytes(as_csv([HEADER, *GOOD]))
    result = runner.invoke(args=["crm", "import", str(source), "--as", "alice"])
    assert result.exit_code == 1 and "只有主管和管理员可以导入客户。" in result.output
    result = runner.invoke(args=["crm", "import", str(source)])
    assert result.exit_code == 2 and "客户经理" in result.output
    assert count(Customer) == 3
