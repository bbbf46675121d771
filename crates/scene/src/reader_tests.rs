//! Cross-format checks: the nasty spellings each reader must take, and no panic on any cut or
//! mutation of a real scene (every prefix of each fixture, and byte flips).

use crate::{read_scene_from, Dcc, NodeKind, Quoting};
use std::path::Path;

const SETTING: &str = r#"--[==[ a block comment with "quotes", { braces } and ]] in it ]==]
{
	Tools = ordered() {
		Macro1 = MacroOperator {
			CtrlWZoom = false,
			Tools = ordered() {
				L = Loader { Clips = { Clip { ID = "Clip1", Filename = [==[C:\pl]]ates\a.0001.exr]==], StartFrame = 1, Length = 2, TrimIn = 0, TrimOut = 1, } } },
				L2 = Loader { Clips = {
					Clip { Filename = "/p/caf\195\169/\u{263A}/b.0001.exr", },
					Clip { Filename = '/p/it\'s/c.0001.exr', },
				} },
			},
		},
		M = MediaIn { CustomData = { MediaProps = { MEDIA_PATH = "/p/m.mov", }, }, Inputs = { GlobalIn = Input { Value = -5, }, GlobalOut = Input { Value = 0x10, }, }, },
		O = MediaOut { Inputs = { Input = Input { SourceOp = "M", Source = "Output", }, }, },
	},
	ActiveTool = "L",
}
"#;

const NK: &str = "#! nuke\nRoot { first_frame 1 last_frame 10 format HD_1080 fps 23.976 }\n\
Read { inputs 0  file /bare/path.%04d.exr  first 1  last 10  name A }\n\
clone node7f8a2c0|Read|12345 {\n file \"/quoted path/with \\\"q\\\"/b.###.exr\"\n name B\n}\n\
Camera2 {\n read_from_file true\n file {/cams/cam v1.abc}\n name Cam\n}\n\
Write {\n inputs 0\n file \"/out/o.####.exr\"\n name W\n}\n";

const MA: &str = "//Maya ASCII 2024 scene\n//Codeset: UTF-8\ncurrentUnit -t 29.97fps;\n\
createNode file -n \"t\";\n\tsetAttr \".ftn\" -type \"string\" \"C:/tex/a \\\"b\\\"; c.exr\";\n\
createNode gpuCache -n \"g\";\n\tsetAttr \".cfn\" -type \"string\" \"/c/ünï.abc\";\n\
createNode script -n \"sceneConfigurationScriptNode\";\n\tsetAttr \".b\" -type \"string\" \"playbackOptions -min 1 -max 48 -ast 1 -aet 48 \";\n";

fn read(dcc: Dcc, text: &[u8]) -> Result<crate::Scene, crate::SceneError> {
    read_scene_from(Path::new("t"), dcc, text)
}

#[test]
fn fusion_setting_with_macros_long_strings_and_escapes() {
    let s = read(Dcc::Fusion, SETTING.as_bytes()).unwrap();
    let paths: Vec<(&str, &str)> = s
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.path.as_ref().map_or("", |p| p.text.as_str()),
            )
        })
        .collect();
    assert_eq!(
        paths,
        [
            ("Macro1.L", "C:\\pl]]ates\\a.0001.exr"),
            ("Macro1.L2[1]", "/p/café/☺/b.0001.exr"),
            ("Macro1.L2[2]", "/p/it's/c.0001.exr"),
            ("M", "/p/m.mov"),
            ("O", ""),
        ]
    );
    assert_eq!(s.nodes[0].path.as_ref().unwrap().quoting, Quoting::LuaLong);
    assert_eq!(s.nodes[3].range.as_ref().unwrap().to_string(), "-5-16");
    assert_eq!(s.nodes[4].flags.has_input, Some(true));
    let p = s.nodes[2].path.as_ref().unwrap();
    assert_eq!(
        &SETTING[p.span.0 as usize..p.span.1 as usize],
        "'/p/it\\'s/c.0001.exr'"
    );
}

#[test]
fn nuke_bare_clone_braced_and_named_format() {
    let s = read(Dcc::Nuke, NK.as_bytes()).unwrap();
    assert_eq!(
        (s.settings.width, s.settings.height, s.settings.fps),
        (Some(1920), Some(1080), Some(23.976))
    );
    let n: Vec<(&str, &str, NodeKind)> = s
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.path.as_ref().unwrap().text.as_str(),
                n.kind,
            )
        })
        .collect();
    assert_eq!(
        n,
        [
            ("A", "/bare/path.%04d.exr", NodeKind::Input),
            ("B", "/quoted path/with \"q\"/b.###.exr", NodeKind::Input),
            ("Cam", "/cams/cam v1.abc", NodeKind::Geometry),
            ("W", "/out/o.####.exr", NodeKind::Output),
        ]
    );
    assert_eq!(s.nodes[3].flags.has_input, Some(false));
    assert_eq!(s.nodes[0].path.as_ref().unwrap().quoting, Quoting::Bare);
}

#[test]
fn maya_escaped_strings_fps_and_playback() {
    let s = read(Dcc::Maya, MA.as_bytes()).unwrap();
    assert_eq!(s.settings.fps, Some(29.97));
    assert_eq!(s.settings.range.as_ref().unwrap().to_string(), "1-48");
    assert_eq!(
        s.nodes[0].path.as_ref().unwrap().text,
        "C:/tex/a \"b\"; c.exr"
    );
    assert_eq!(s.nodes[1].path.as_ref().unwrap().text, "/c/ünï.abc");
}

#[test]
fn legacy_code_page_bytes_are_read_lossily() {
    let mut ma = b"createNode file -n \"t\";\n setAttr \".ftn\" -type \"string\" \"C:/caf".to_vec();
    ma.push(0xE9);
    ma.extend_from_slice(b"/a.exr\";\n");
    let s = read(Dcc::Maya, &ma).unwrap();
    let p = s.nodes[0].path.as_ref().unwrap();
    assert!(p.lossy && p.text.contains('\u{FFFD}'));
}

/// Every prefix of every fixture (a file cut anywhere) and single-byte changes either read or
/// fail with a located error; none panics.
#[test]
fn no_panic_on_cut_or_mutated_scenes() {
    let fixtures: [(Dcc, &str); 3] = [(Dcc::Fusion, SETTING), (Dcc::Nuke, NK), (Dcc::Maya, MA)];
    for (dcc, text) in fixtures {
        let b = text.as_bytes();
        for cut in 0..b.len() {
            if let Err(e) = read(dcc, &b[..cut]) {
                assert!(!e.to_string().is_empty());
            }
        }
        for i in (0..b.len()).step_by(3) {
            for c in [b'"', b'{', b'}', b'\\', b';', b'[', b'\n', 0xFF] {
                let mut m = b.to_vec();
                m[i] = c;
                let _ = read(dcc, &m);
            }
        }
    }
}
