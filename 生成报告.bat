@echo off
rem excel-eval: double-click to write the reports (Windows). Offline machines: see the docs folder.
rem This file is UTF-8 (no BOM) with CRLF line endings. Every command is ASCII; Chinese text appears only in
rem echo and "set /p" lines after "chcp 65001", because cmd reads a UTF-8 batch file correctly only after it.
rem Workbook: the file dropped onto this script, else the only .xlsx/.xlsm beside it, else pick from a list.
rem Reports: output\WORKBOOK-NAME\ beside this script. First run: creates .venv and installs excel-eval
rem (from the wheels\ folder when present, offline). Setting EXCEL_EVAL_PYTHON to the full path of a
rem python.exe that already has the dependencies skips both (for testing and IT-managed machines).
setlocal EnableExtensions DisableDelayedExpansion
set "OLDCP="
for /f "tokens=2 delims=:." %%A in ('chcp') do for /f "tokens=1" %%B in ("%%A") do set "OLDCP=%%B"
chcp 65001 >nul
set "HERE=%~dp0"
set "RC=2"
title excel-eval
pushd "%~dp0"
if errorlevel 1 goto :fail

if not exist "%HERE%pyproject.toml" goto :not_extracted
if not exist "%HERE%excel_eval\" goto :not_extracted

rem ---- 1. The workbook ------------------------------------------------------------------------------------
set "BOOK="
if not "%~1"=="" set "BOOK=%~f1"
if defined BOOK goto :have_book

set "COUNT=0"
for %%F in ("%HERE%*.xlsx" "%HERE%*.xlsm") do call :add_candidate "%%~fF"
if "%COUNT%"=="0" goto :no_book
if "%COUNT%"=="1" set "BOOK=%CAND1%"
if defined BOOK goto :have_book

echo 文件夹中有多个工作簿：
for /l %%I in (1,1,%COUNT%) do call :show_candidate %%I
set "TRIES=0"
:ask
set /a TRIES+=1
if %TRIES% GTR 5 goto :fail
set "CHOICE="
set /p "CHOICE=请输入要生成报告的工作簿编号，然后按回车："
if not defined CHOICE goto :ask
set "CHOICE=%CHOICE:"=%"
set "NOTNUM="
for /f "delims=0123456789" %%A in ("%CHOICE%") do set "NOTNUM=1"
if defined NOTNUM goto :bad_choice
if "%CHOICE%"=="" goto :ask
if %CHOICE% LSS 1 goto :bad_choice
if %CHOICE% GTR %COUNT% goto :bad_choice
call set "BOOK=%%CAND%CHOICE%%%"
if defined BOOK goto :have_book
:bad_choice
echo 没有这个编号，请输入 1 到 %COUNT% 之间的数字。
goto :ask

:have_book
if not exist "%BOOK%" goto :book_missing
for %%B in ("%BOOK%") do set "STEM=%%~nB"
set "OUT=%HERE%output\%STEM%"

rem ---- 2. Python and excel-eval (installed on the first run) -----------------------------------------------
if defined EXCEL_EVAL_PYTHON set "PY=%EXCEL_EVAL_PYTHON%"
if defined EXCEL_EVAL_PYTHON goto :run
set "VENV=%HERE%.venv"
set "PY=%VENV%\Scripts\python.exe"
set "STAMP=%VENV%\.installed"
if not exist "%PY%" goto :install
if not exist "%STAMP%" goto :install
rem Reinstall when pyproject.toml is newer than the stamp (a new version copied over the folder).
"%PY%" -c "import os, sys; sys.exit(os.path.getmtime(sys.argv[1]) > os.path.getmtime(sys.argv[2]))" "%HERE%pyproject.toml" "%STAMP%"
if errorlevel 1 goto :install
goto :run

:install
call :find_python
if not defined BASEPY goto :no_python
if exist "%PY%" "%PY%" -c "import sys" >nul 2>&1 && goto :venv_ready
echo 正在创建 Python 虚拟环境（.venv）……
%BASEPY% -m venv --clear "%VENV%"
if errorlevel 1 goto :venv_failed
:venv_ready
echo 首次运行：正在安装所需组件，请稍候（约需 1～3 分钟）……
if exist "%HERE%wheels\" goto :install_offline
"%PY%" -m pip install --disable-pip-version-check -e "%HERE%."
goto :installed
:install_offline
echo 使用 wheels 文件夹中的离线安装包。
"%PY%" -m pip install --disable-pip-version-check --no-index --find-links "%HERE%wheels" -e "%HERE%."
:installed
if errorlevel 1 goto :install_failed
type nul > "%STAMP%"

rem ---- 3. The reports --------------------------------------------------------------------------------------
:run
echo.
echo 工作簿："%BOOK%"
echo 报告将保存到："%OUT%"
echo 自定义模板：工作簿旁边或本文件夹中名为“模板”的文件夹（templates 的副本，可在 Word 中修改）会被自动使用。
echo.
"%PY%" -m excel_eval run "%BOOK%" -o "%OUT%" --combined
set "RC=%ERRORLEVEL%"
echo.
if "%RC%"=="0" echo 完成：报告已生成。
if "%RC%"=="1" echo 工作簿中有需要修改的问题：请查看上面的提示（也保存在输出文件夹的“问题清单.csv”中），修改后重新运行。
if not "%RC%"=="0" if not "%RC%"=="1" echo 未能生成报告，请查看上面的提示。
if exist "%OUT%\" start "" "%OUT%"
goto :end

rem ---- Messages ---------------------------------------------------------------------------------------------
:not_extracted
echo 在 "%HERE%" 中找不到程序文件。
echo 请先把压缩包完整解压（右键点压缩包，选“全部解压缩”），再双击解压后文件夹中的“生成报告.bat”。
goto :fail

:no_book
echo 本文件夹中没有工作簿（.xlsx）。
echo 请把工作簿放到本文件夹中（与“生成报告.bat”放在一起），或把工作簿拖到“生成报告.bat”的图标上。
goto :fail

:book_missing
echo 找不到工作簿："%BOOK%"
goto :fail

:no_python
echo.
echo 没有找到 Python 3.11 或更高版本。
echo 请从 https://www.python.org/downloads/windows/ 下载 Python 3.11 或更新版本的 64 位安装程序（Windows installer 64-bit），
echo 安装时务必勾选“Add python.exe to PATH”，装好后重新双击“生成报告.bat”。
echo 没有网络的电脑：请把安装程序拷贝过去安装，并见 docs\离线安装.md。
goto :fail

:venv_failed
echo 创建虚拟环境失败，请查看上面的提示。
goto :fail

:install_failed
echo.
echo 安装失败，请查看上面的提示。需要网络连接；没有网络的电脑请见 docs\离线安装.md。
goto :fail

rem ---- Subroutines ------------------------------------------------------------------------------------------
:add_candidate
rem Skip Excel/WPS lock files (~$name.xlsx).
set "NAME=%~nx1"
if "%NAME:~0,2%"=="~$" goto :eof
set /a COUNT+=1
set "CAND%COUNT%=%~1"
set "CANDNAME%COUNT%=%~nx1"
goto :eof

:show_candidate
rem Delayed expansion prints names with & ( ) ! as they are.
setlocal EnableDelayedExpansion
echo   %1. !CANDNAME%1!
endlocal
goto :eof

:find_python
rem The py launcher first (newest 3.x, then 3.13..3.11 explicitly), then python on PATH.
set "BASEPY="
for %%V in (3 3.14 3.13 3.12 3.11) do if not defined BASEPY py -%%V -c "import sys; sys.exit(sys.version_info < (3, 11))" >nul 2>&1 && set "BASEPY=py -%%V"
if defined BASEPY goto :eof
python -c "import sys; sys.exit(sys.version_info < (3, 11))" >nul 2>&1 && set "BASEPY=python"
goto :eof

rem ---- The end: always pause so the messages can be read ---------------------------------------------------
:fail
if "%RC%"=="0" set "RC=2"
:end
echo.
pause
popd
if defined OLDCP chcp %OLDCP% >nul
exit /b %RC%
