//! A workspace layout as a small tree of our own (`Node`), independent of egui_tiles' internal
//! form: what the layout file stores, what the presets are written in, and what a loaded file
//! is checked as before it becomes an `egui_tiles::Tree` (every tile exactly once, finite
//! positive shares, bounded depth). Anything else is refused, and the caller falls back to the
//! default layout.

use eframe::egui;
use egui_tiles::{Container, Linear, LinearDir, Tabs, TileId, Tiles, Tree};
use serde::{Deserialize, Serialize};

use super::Tile;

/// One part of a row or column: its share of the space and what fills it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Its size relative to its siblings' (e.g. 1.12 beside 0.88); finite and positive.
    pub share: f32,
    /// What fills it.
    pub node: Node,
}

/// A layout: panes, tab groups, rows (side by side), columns (one above the other), grids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// A single tile.
    Pane(Tile),
    /// Tabs, of which `active` (an index) is shown.
    Tabs {
        /// The grouped nodes, one per tab, left to right.
        tabs: Vec<Node>,
        /// Index of the tab shown.
        active: usize,
    },
    /// Parts side by side, left to right.
    Row(Vec<Part>),
    /// Parts one above the other, top to bottom.
    Column(Vec<Part>),
    /// Nodes in a grid that egui_tiles arranges.
    Grid(Vec<Node>),
}

/// Deeper than this is not a layout a person made by dragging: refused.
const MAX_DEPTH: usize = 24;

/// The egui id of the workspace tree (its drag state lives under it).
const TREE_ID: &str = "nnlab_workspace";

fn part(share: f32, node: Node) -> Part {
    Part { share, node }
}

/// Tabs of these tiles, the first one shown.
fn tabs(tiles: &[Tile]) -> Node {
    Node::Tabs {
        tabs: tiles.iter().map(|t| Node::Pane(*t)).collect(),
        active: 0,
    }
}

/// Ready-made arrangements; each shows every tile somewhere (most of them as tabs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The default: network and decision map on top, metric and analysis tabs below.
    Train,
    /// The decision map and the metric plots large, for following a lesson.
    Lesson,
    /// The Curvature tile large, across the top.
    Curvature,
    /// The Landscape tile large, across the top.
    Landscape,
    /// The Dynamics tile large, across the top.
    Dynamics,
    /// The Geometry tile large, across the top.
    Geometry,
}

impl Preset {
    /// Every preset, in the order the Layout menu lists them (Train as Reset layout, first).
    pub const ALL: [Preset; 6] = [
        Preset::Train,
        Preset::Lesson,
        Preset::Curvature,
        Preset::Landscape,
        Preset::Dynamics,
        Preset::Geometry,
    ];

    /// The analysis tile this preset gives the most room (None: no single one).
    pub fn focus(self) -> Option<Tile> {
        match self {
            Preset::Train | Preset::Lesson => None,
            Preset::Curvature => Some(Tile::Curvature),
            Preset::Landscape => Some(Tile::Landscape),
            Preset::Dynamics => Some(Tile::Dynamics),
            Preset::Geometry => Some(Tile::Geometry),
        }
    }

    /// The layout. Tab groups are sized so that at 1280×800 every tab title fits (short
    /// titles where the full ones do not).
    pub fn node(self) -> Node {
        use Tile::*;
        const PLOTS: [Tile; 5] = [Loss, Accuracy, Gradient, Update, Saturation];
        const ANALYSES: [Tile; 4] = [Curvature, Landscape, Dynamics, Collapse];
        // The confusion matrices beside the network (the maps' and the analyses' groups have
        // no room for a fifth title at 1280×800).
        const NETWORK: [Tile; 3] = [Network, Histogram, Confusion];
        // The function's geometry beside the decision map (the analyses' row has no room).
        const MAPS: [Tile; 4] = [Output, Geometry, Spectral, DoubleDescent];
        match self {
            Preset::Train => Node::Column(vec![
                part(
                    1.12,
                    Node::Row(vec![part(1.0, tabs(&NETWORK)), part(1.0, tabs(&MAPS))]),
                ),
                part(
                    0.88,
                    Node::Row(vec![part(1.0, tabs(&PLOTS)), part(1.0, tabs(&ANALYSES))]),
                ),
            ]),
            Preset::Lesson => Node::Column(vec![
                part(
                    1.12,
                    Node::Row(vec![part(1.0, tabs(&MAPS)), part(1.0, tabs(&PLOTS))]),
                ),
                part(
                    0.88,
                    Node::Row(vec![part(1.0, tabs(&NETWORK)), part(1.0, tabs(&ANALYSES))]),
                ),
            ]),
            Preset::Curvature | Preset::Landscape | Preset::Dynamics | Preset::Geometry => {
                // The analysis across the whole width on top (the other analyses as tabs
                // beside it), the decision map, network and plots as tabs below.
                let focus = self.focus().unwrap_or(Curvature);
                let mut big = vec![focus];
                big.extend(
                    [
                        Curvature,
                        Landscape,
                        Dynamics,
                        Geometry,
                        Spectral,
                        DoubleDescent,
                        Confusion,
                        Collapse,
                    ]
                    .into_iter()
                    .filter(|t| *t != focus),
                );
                Node::Column(vec![
                    part(1.4, tabs(&big)),
                    part(
                        0.6,
                        Node::Row(vec![
                            part(1.0, tabs(&[Output, Network, Histogram])),
                            part(1.0, tabs(&PLOTS)),
                        ]),
                    ),
                ])
            }
        }
    }
}

/// The default layout.
pub fn default_node() -> Node {
    Preset::Train.node()
}

/// The tree a (checked) layout describes.
pub fn build(node: &Node) -> Result<Tree<Tile>, String> {
    check(node)?;
    let mut tiles = Tiles::default();
    let root = insert(&mut tiles, node);
    Ok(Tree::new(egui::Id::unique(TREE_ID), root, tiles))
}

/// The tree of the default layout.
pub(crate) fn default_tree() -> Tree<Tile> {
    let mut tiles = Tiles::default();
    let root = insert(&mut tiles, &default_node());
    Tree::new(egui::Id::unique(TREE_ID), root, tiles)
}

/// Every tile exactly once, non-empty containers, finite positive shares, bounded depth.
pub fn check(node: &Node) -> Result<(), String> {
    let mut seen = Vec::new();
    check_node(node, 0, &mut seen)?;
    if let Some(missing) = Tile::ALL.iter().find(|t| !seen.contains(t)) {
        return Err(format!("the layout has no {} tile", missing.key()));
    }
    Ok(())
}

fn check_node(node: &Node, depth: usize, seen: &mut Vec<Tile>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("the layout is nested deeper than {MAX_DEPTH}"));
    }
    match node {
        Node::Pane(t) => {
            if seen.contains(t) {
                return Err(format!("the {} tile appears twice", t.key()));
            }
            seen.push(*t);
        }
        Node::Tabs { tabs, active } => {
            if tabs.is_empty() {
                return Err("a tab group is empty".into());
            }
            if *active >= tabs.len() {
                return Err("a tab group shows a tab it does not have".into());
            }
            for n in tabs {
                check_node(n, depth + 1, seen)?;
            }
        }
        Node::Row(parts) | Node::Column(parts) => {
            if parts.is_empty() {
                return Err("a row or column is empty".into());
            }
            for p in parts {
                if !(p.share.is_finite() && p.share > 0.0 && p.share <= 1e6) {
                    return Err(format!("a share of {} is not a positive size", p.share));
                }
                check_node(&p.node, depth + 1, seen)?;
            }
        }
        Node::Grid(cells) => {
            if cells.is_empty() {
                return Err("a grid is empty".into());
            }
            for n in cells {
                check_node(n, depth + 1, seen)?;
            }
        }
    }
    Ok(())
}

fn insert(tiles: &mut Tiles<Tile>, node: &Node) -> TileId {
    match node {
        Node::Pane(t) => tiles.insert_pane(*t),
        Node::Tabs { tabs, active } => {
            let children: Vec<TileId> = tabs.iter().map(|n| insert(tiles, n)).collect();
            let mut t = Tabs::new(children.clone());
            t.active = children.get(*active).copied().or(t.active);
            tiles.insert_container(t)
        }
        Node::Row(parts) | Node::Column(parts) => {
            let dir = if matches!(node, Node::Row(_)) {
                LinearDir::Horizontal
            } else {
                LinearDir::Vertical
            };
            let children: Vec<(TileId, f32)> = parts
                .iter()
                .map(|p| (insert(tiles, &p.node), p.share))
                .collect();
            let mut linear = Linear::new(dir, children.iter().map(|c| c.0).collect());
            for (id, share) in children {
                linear.shares.set_share(id, share);
            }
            tiles.insert_container(linear)
        }
        Node::Grid(cells) => {
            let children = cells.iter().map(|n| insert(tiles, n)).collect();
            tiles.insert_grid_tile(children)
        }
    }
}

/// The layout of a tree (None: empty, or a child that is missing from it).
pub fn describe(tree: &Tree<Tile>) -> Option<Node> {
    describe_tile(&tree.tiles, tree.root?, 0)
}

fn describe_tile(tiles: &Tiles<Tile>, id: TileId, depth: usize) -> Option<Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match tiles.get(id)? {
        egui_tiles::Tile::Pane(t) => Node::Pane(*t),
        egui_tiles::Tile::Container(Container::Tabs(t)) => {
            let nodes = t
                .children
                .iter()
                .map(|c| describe_tile(tiles, *c, depth + 1))
                .collect::<Option<Vec<_>>>()?;
            let active = t
                .active
                .and_then(|a| t.children.iter().position(|c| *c == a))
                .unwrap_or(0);
            Node::Tabs {
                tabs: nodes,
                active,
            }
        }
        egui_tiles::Tile::Container(Container::Linear(l)) => {
            let parts = l
                .children
                .iter()
                .map(|c| {
                    Some(Part {
                        share: l.shares[*c],
                        node: describe_tile(tiles, *c, depth + 1)?,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            match l.dir {
                LinearDir::Horizontal => Node::Row(parts),
                LinearDir::Vertical => Node::Column(parts),
            }
        }
        egui_tiles::Tile::Container(Container::Grid(g)) => Node::Grid(
            g.children()
                .map(|c| describe_tile(tiles, *c, depth + 1))
                .collect::<Option<Vec<_>>>()?,
        ),
    })
}

/// The tiles shown now (the active tab of each group; all of them in rows and columns).
pub fn shown(tree: &Tree<Tile>) -> Vec<Tile> {
    tree.active_tiles()
        .into_iter()
        .filter_map(|id| tree.tiles.get_pane(&id).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_layout_that_round_trips() {
        for p in Preset::ALL {
            let node = p.node();
            check(&node).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            let tree = build(&node).unwrap();
            assert_eq!(describe(&tree), Some(node), "{p:?}");
        }
    }

    #[test]
    fn a_focused_preset_shows_its_analysis() {
        for p in Preset::ALL {
            let tree = build(&p.node()).unwrap();
            if let Some(t) = p.focus() {
                assert!(shown(&tree).contains(&t), "{p:?}");
            }
        }
    }

    #[test]
    fn bad_layouts_are_refused_with_a_reason() {
        let twice = Node::Tabs {
            tabs: Tile::ALL
                .iter()
                .chain([&Tile::Loss])
                .map(|t| Node::Pane(*t))
                .collect(),
            active: 0,
        };
        assert!(
            check(&twice)
                .unwrap_err()
                .contains("loss tile appears twice")
        );
        let missing = Node::Tabs {
            tabs: vec![Node::Pane(Tile::Loss)],
            active: 0,
        };
        assert!(check(&missing).unwrap_err().contains("has no network tile"));
        let all = || Node::Tabs {
            tabs: Tile::ALL.iter().map(|t| Node::Pane(*t)).collect(),
            active: 0,
        };
        for share in [f32::NAN, 0.0, -1.0, f32::INFINITY] {
            let bad = Node::Row(vec![Part { share, node: all() }]);
            assert!(check(&bad).is_err(), "share {share}");
        }
        let out_of_range = Node::Tabs {
            tabs: Tile::ALL.iter().map(|t| Node::Pane(*t)).collect(),
            active: Tile::ALL.len(),
        };
        assert!(check(&out_of_range).is_err());
        let mut deep = all();
        for _ in 0..30 {
            deep = Node::Column(vec![Part {
                share: 1.0,
                node: deep,
            }]);
        }
        assert!(check(&deep).unwrap_err().contains("deeper"));
        assert!(check(&Node::Grid(Vec::new())).is_err());
    }
}
