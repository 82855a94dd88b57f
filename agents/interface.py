"""The one agent contract the harness drives: skrl's ``Agent`` lifecycle and :class:`HarnessAgent`.

Every agent is a ``skrl.agents.torch.Agent`` and is driven only through:

- ``init(trainer_cfg=...)``; ``enable_training_mode(bool)``;
- ``pre_interaction(timestep=, timesteps=)``;
  ``act(observations, states, timestep=, timesteps=) -> (actions, outputs)``;
- ``record_transition(observations=, states=, actions=, rewards=, next_observations=, next_states=,
  terminated=, truncated=, infos=, timestep=, timesteps=)`` where ``next_observations`` holds the
  true final observation of an episode that just ended (see ``benchmark.loop``);
- ``post_interaction(timestep=, timesteps=)``: learns when its schedule says so;
- ``checkpoint_modules``: ``{name: module with state_dict/load_state_dict}``; ``memory``: its replay
  or rollout memory (skrl's ``Memory``) or None;
- ``tracking_data``: ``{tag: [values]}``; the loop reads and clears it every log interval;

and every agent is a :class:`HarnessAgent`, whose methods are every other hook the harness calls
(evaluation, resuming, compiling, timing), each with a default. The classic four are skrl's own
classes with this contract mixed in (``agents/algorithms/{ppo,ddpg,td3,sac}.py``); the diffusion
agents build on :mod:`agents.bases`. Nothing in the harness asks an agent what it has.

To resume a run as the same experiment, a checkpoint holds more than ``checkpoint_modules``
(:func:`resume_state`, :func:`memory_state`): the memory, the action spaces' random generators and
the agent's :meth:`HarnessAgent.resume_state` (counters, running averages, a learning-rate
scheduler, schedule positions).
"""

from __future__ import annotations

import copy

import gymnasium
import torch


class HarnessAgent:
    """The hooks the harness calls on an agent beyond skrl's lifecycle, with their defaults.

    ``evaluation_policy``: what :meth:`act_eval` does, in words (kept with every evaluation).
    ``losses_need_write_interval``: skrl's SAC records its losses only while its own TensorBoard
    writer is on; such an agent gets a write interval that is never reached (:func:`init_for_loop`).
    """

    evaluation_policy: str = "the agent's own evaluation action (act_eval)"
    losses_need_write_interval: bool = False

    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        """The action the algorithm's original evaluates with (e.g. QVPO's best of 32 by Q)."""
        raise NotImplementedError(f"{type(self).__name__} defines no evaluation action")

    def networks(self) -> dict[str, torch.nn.Module]:
        """The networks whose forward passes acting and updating call: what the speed report times
        (``benchmark.perf_agents``) and :meth:`enable_compile` compiles."""
        raise NotImplementedError(f"{type(self).__name__} names no networks")

    def enable_compile(self) -> None:
        """Put the hot paths on ``torch.compile`` (:mod:`agents.execution`): by default every network."""
        from agents import execution  # noqa: PLC0415

        execution.compile_modules(*self.networks().values())

    def resume_state(self) -> dict:
        """The running state outside the modules and the memory, for an exact resume."""
        return {}

    def load_resume_state(self, state: dict) -> None:
        """Restore what :meth:`resume_state` returned."""

    def restart_episodes(self) -> None:
        """Every environment was reset outside training (a validation, :mod:`benchmark.guardrails`):
        forget per-episode running sums the agent keeps, if any."""

    def action_spaces(self) -> list[gymnasium.Space]:
        """The gymnasium spaces whose own generators random actions draw from: skrl's
        ``Model.random_act`` samples the policy model's action space with the space's numpy
        generator, which gymnasium seeds from the OS unless told (the reason skrl's off-policy
        agents did not repeat a run with the same seed)."""
        found = {id(self.action_space): self.action_space} if self.action_space is not None else {}
        for model in self.models.values():
            if model is not None and model.action_space is not None:
                found.setdefault(id(model.action_space), model.action_space)
        return [space for space in found.values() if isinstance(space, gymnasium.Space)]


class SkrlAgent(HarnessAgent):
    """The contract for skrl's own agent classes (PPO, DDPG, TD3, SAC): they evaluate with the
    policy model's mean action (Gaussian) or its action (deterministic), and keep a few counters
    outside their modules (``SKRL_COUNTERS``: PPO's step within the rollout, TD3's update count for
    its policy delay, SAC's entropy coefficient as the next update uses it)."""

    SKRL_COUNTERS: tuple[str, ...] = ()

    @torch.no_grad()
    def act_eval(self, observations: torch.Tensor) -> torch.Tensor:
        inputs = {"observations": self._observation_preprocessor(observations), "states": None}
        actions, outputs = self.policy.act(inputs, role="policy")
        return outputs.get("mean_actions", actions)

    def networks(self) -> dict[str, torch.nn.Module]:
        # skrl calls a model's ``compute``, which calls its instantiated child networks
        return {f"{name}.{child}": module for name, model in self.models.items() if model is not None
                for child, module in model.named_children()}

    def resume_state(self) -> dict:
        return {"attributes": {k: copy.deepcopy(getattr(self, k)) for k in self.SKRL_COUNTERS}}

    def load_resume_state(self, state: dict) -> None:
        for key, value in state.get("attributes", {}).items():
            setattr(self, key, value)


@torch.no_grad()
def evaluation_action(agent: HarnessAgent, observations: torch.Tensor) -> torch.Tensor:
    return agent.act_eval(observations)


def evaluation_policy(agent: HarnessAgent) -> str:
    """What :func:`evaluation_action` does for ``agent``, in words (kept with every evaluation)."""
    return agent.evaluation_policy


# skrl's per-step reward tracking costs ~0.35 ms a step at 1024 envs on the CPU, and the loop counts
# episodes itself: agents get a write interval of 0, or one never reached (losses_need_write_interval).
NEVER = 2**62


def init_for_loop(agent: HarnessAgent) -> None:
    """``agent.init()`` with skrl's own TensorBoard writer and checkpoints off (the loop does both),
    and its action spaces' generators seeded from the seed torch's generator was given (the run's)
    without drawing from it: every other random draw stays as it was."""
    agent.cfg.experiment.write_interval = 0
    agent.cfg.experiment.checkpoint_interval = 0
    agent.init()
    agent.checkpoint_interval = 0
    agent.write_interval = NEVER if agent.losses_need_write_interval else 0
    for i, space in enumerate(agent.action_spaces()):  # from the run's seed, drawing nothing from torch's
        space.seed(torch.initial_seed() % 2**32 + i)


# --- resuming: what a checkpoint holds beyond checkpoint_modules -------------------------------------
def resume_state(agent: HarnessAgent) -> dict:
    """The agent's running state beyond its modules and memory (see the module docstring)."""
    return {"spaces": [space.np_random.bit_generator.state for space in agent.action_spaces()],
            "agent": agent.resume_state()}


def load_resume_state(agent: HarnessAgent, state: dict) -> None:
    for space, generator in zip(agent.action_spaces(), state.get("spaces", [])):
        space.np_random.bit_generator.state = generator
    agent_state = dict(state.get("agent") or {})
    # checkpoints written before the contract kept skrl's counters and scheduler at the top level
    agent_state.update({k: state[k] for k in ("attributes", "scheduler") if k in state})
    agent.load_resume_state(agent_state)


def memory_state(agent) -> dict | None:
    """The agent's replay (or rollout) memory, ``agent.memory`` (skrl's ``Memory``), as saved: its
    indices and the filled part of each tensor, in their own dtypes (exact), or None without one."""
    memory = agent.memory
    if memory is None or not memory.tensors:
        return None
    rows = memory.memory_size if memory.filled else memory.memory_index + (1 if memory.env_index else 0)
    return {"memory_size": memory.memory_size, "num_envs": memory.num_envs, "filled": memory.filled,
            "memory_index": memory.memory_index, "env_index": memory.env_index,
            # a slice is cloned: torch.save would write a view's whole storage
            "tensors": {name: t if rows == memory.memory_size else t[:rows].clone()
                        for name, t in memory.tensors.items()}}


def load_memory_state(agent, state: dict) -> None:
    memory = agent.memory
    shape = (memory.memory_size, memory.num_envs)
    if (state["memory_size"], state["num_envs"]) != shape or set(state["tensors"]) != set(memory.tensors):
        raise ValueError(f"saved memory {state['memory_size']} x {state['num_envs']} {sorted(state['tensors'])} "
                         f"does not fit the agent's {shape[0]} x {shape[1]} {sorted(memory.tensors)}")
    with torch.no_grad():
        for name, saved in state["tensors"].items():
            memory.tensors[name][: saved.shape[0]].copy_(saved)
    memory.filled, memory.memory_index, memory.env_index = state["filled"], state["memory_index"], state["env_index"]


def memory_transitions(state: dict) -> int:
    """How many transitions a saved memory holds."""
    if state["filled"]:
        return state["memory_size"] * state["num_envs"]
    return state["memory_index"] * state["num_envs"] + state["env_index"]


def module_states(agent) -> dict:
    out = {}
    for name, module in agent.checkpoint_modules.items():
        if isinstance(module, torch.Tensor):
            out[name] = module.detach().clone()
        elif module is not None:
            out[name] = module.state_dict()
    return out


def load_module_states(agent, states: dict) -> None:
    for name, state in states.items():
        module = agent.checkpoint_modules[name]
        if isinstance(module, torch.Tensor):
            with torch.no_grad():
                module.copy_(state)
        else:
            module.load_state_dict(state)
