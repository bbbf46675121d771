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

/// Fusion tools that read one file through an input, in the spellings comps use: a group,
/// single quotes, a long string, an input that is connected instead of set (no file).
const TOOLS_COMP: &str = r#"Composition {
	Tools = ordered() {
		Fbx = SurfaceFBXMesh { Inputs = { ImportFile = Input { Value = "P:\\demo\\assets\\car\\model\\v002\\car_v002.fbx", }, ObjName = Input { Value = "", }, }, },
		Grp = GroupOperator { Tools = ordered() {
			Abc = SurfaceAlembicMesh { PassThrough = true, Inputs = { Filename = Input { Value = '/cache/it\'s/anim_v001.abc', }, }, },
		}, },
		Lut = FileLUT { Inputs = { LUTFile = Input { Value = [[/luts/show.cube]], }, }, },
		Ocio = OCIOFileTransform { Inputs = { LUTFile = Input { Value = "LUTs:/grade.csp", }, }, },
		Usd = uLoader { Inputs = { Filename = Input { Value = "/usd/set_v003.usd", }, }, },
		Linked = SurfaceFBXMesh { Inputs = { ImportFile = Input { SourceOp = "Other", Source = "Value", }, }, },
		Empty = SurfaceAlembicMesh { },
	},
}
"#;

/// Maya nodes with paths beyond textures: a geometry cache (folder and name apart), an
/// Alembic node with its layer list, a referenced Alembic, a second reference to the same
/// scene (`{1}`), an image plane with its frame range and a texture sequence with an offset.
const MA_NODES: &str = "//Maya ASCII 2024 scene\n\
file -rdi 1 -ns \"rig1\" -rfn \"rigRN1\" -typ \"mayaAscii\" \"/p/rig_v002.ma{1}\";\n\
file -r -ns \"rig1\" -dr 1 -rfn \"rigRN1\" -op \"v=0;\" -typ \"mayaAscii\" \"/p/rig_v002.ma{1}\";\n\
file -r -ns \"cam\" -rfn \"camRN\" -typ \"Alembic\" \"/p/cam_v001.abc\";\n\
createNode cacheFile -n \"clothCache1\";\n\
\tsetAttr \".cn\" -type \"string\" \"cloth_v003\";\n\
\tsetAttr \".cp\" -type \"string\" \"/p/fx/v003/\";\n\
\tsetAttr \".os\" 1001;\n\tsetAttr \".oe\" 1100;\n\tsetAttr \".ss\" 1011;\n\tsetAttr \".se\" 1090;\n\
createNode AlembicNode -n \"anim_AlembicNode\";\n\
\tsetAttr \".fn\" -type \"string\" \"/p/anim_v001.abc\";\n\
\tsetAttr \".fns\" -type \"stringArray\" 2 \"/p/anim_v001.abc\" \"/p/fix.abc\"  ;\n\
createNode imagePlane -n \"ip\";\n\
\tsetAttr \".imn\" -type \"string\" \"/p/plate.1001.exr\";\n\tsetAttr \".ufe\" yes;\n\
\tsetAttr \".fin\" 1001;\n\tsetAttr \".fot\" 1.5e3;\n\tsetAttr -k on \".fo\" -4;\n\
createNode file -n \"seq\";\n\
\tsetAttr \".ftn\" -type \"string\" \"/p/tex.1001.exr\";\n\tsetAttr \".ufe\" yes;\n";

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

#[test]
fn fusion_meshes_luts_and_usd_loaders() {
    let s = read(Dcc::Fusion, TOOLS_COMP.as_bytes()).unwrap();
    let n: Vec<(&str, &str, NodeKind, &str)> = s
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.class.as_str(),
                n.kind,
                n.path.as_ref().map_or("", |p| p.text.as_str()),
            )
        })
        .collect();
    assert_eq!(
        n,
        [
            (
                "Fbx",
                "SurfaceFBXMesh",
                NodeKind::Geometry,
                "P:\\demo\\assets\\car\\model\\v002\\car_v002.fbx"
            ),
            (
                "Grp.Abc",
                "SurfaceAlembicMesh",
                NodeKind::Geometry,
                "/cache/it's/anim_v001.abc"
            ),
            ("Lut", "FileLUT", NodeKind::Input, "/luts/show.cube"),
            (
                "Ocio",
                "OCIOFileTransform",
                NodeKind::Input,
                "LUTs:/grade.csp"
            ),
            ("Usd", "uLoader", NodeKind::Geometry, "/usd/set_v003.usd"),
        ]
    );
    assert!(s.nodes[1].flags.disabled);
    assert!(s.nodes[3].flags.expression, "a path map is not evaluated");
    let p = s.nodes[0].path.as_ref().unwrap();
    assert_eq!(
        &TOOLS_COMP[p.span.0 as usize..p.span.1 as usize],
        "\"P:\\\\demo\\\\assets\\\\car\\\\model\\\\v002\\\\car_v002.fbx\""
    );
}

#[test]
fn maya_caches_alembic_layers_references_and_ranges() {
    let s = read(Dcc::Maya, MA_NODES.as_bytes()).unwrap();
    let n: Vec<(&str, &str, NodeKind)> = s
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.class.as_str(), n.kind))
        .collect();
    assert_eq!(
        n,
        [
            ("rigRN1", "reference", NodeKind::Reference),
            ("camRN", "reference", NodeKind::Geometry),
            ("clothCache1", "cacheFile", NodeKind::Geometry),
            ("anim_AlembicNode", "AlembicNode", NodeKind::Geometry),
            ("ip", "imagePlane", NodeKind::ImagePlane),
            ("seq", "file", NodeKind::Texture),
        ]
    );
    let rig = &s.nodes[0];
    assert_eq!(rig.also.len(), 1, "the -rdi line changes with it");
    assert_eq!(rig.file_text().unwrap(), "/p/rig_v002.ma{1}");
    let cache = &s.nodes[2];
    assert_eq!(cache.file_text().unwrap(), "/p/fx/v003/cloth_v003.xml");
    let field = |n: &crate::MediaNode, k: &str| {
        n.range_fields
            .iter()
            .find(|f| f.name == k)
            .map(|f| (f.value, &MA_NODES[f.span.0 as usize..f.span.1 as usize]))
    };
    assert_eq!(field(cache, "originalStart"), Some((1001, "1001")));
    assert_eq!(field(cache, "sourceEnd"), Some((1090, "1090")));
    let abc = &s.nodes[3];
    assert_eq!(abc.also.len(), 1, "only the layer that is the same path");
    let ip = &s.nodes[4];
    assert_eq!(field(ip, "frameOffset"), Some((-4, "-4")));
    assert_eq!(field(ip, "frameIn"), Some((1001, "1001")));
    assert_eq!(
        field(ip, "frameOut"),
        None,
        "1.5e3 is no integer as written"
    );
    let seq = &s.nodes[5];
    let fo = seq.range_fields.iter().find(|f| f.name == "frameOffset");
    let fo = fo.expect("the default offset, to be written after .ufe");
    assert_eq!(fo.span.0, fo.span.1);
    assert_eq!(
        &MA_NODES[..fo.span.0 as usize].rsplit('\n').next(),
        &Some("\tsetAttr \".ufe\" yes;")
    );
}

/// Every prefix of every fixture (a file cut anywhere) and single-byte changes either read or
/// fail with a located error; none panics.
#[test]
fn no_panic_on_cut_or_mutated_scenes() {
    let fixtures: [(Dcc, &str); 5] = [
        (Dcc::Fusion, SETTING),
        (Dcc::Fusion, TOOLS_COMP),
        (Dcc::Nuke, NK),
        (Dcc::Maya, MA),
        (Dcc::Maya, MA_NODES),
    ];
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
